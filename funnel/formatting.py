"""Amounts, moments and item lists as a customer reads them in their own language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from babel.numbers import format_currency

from funnel.commerce import Item

ITEM_NAME_LENGTH = 40
ITEMS_SHOWN = 3


def money(amount: str | None, currency: str | None, language: str) -> str:
    """1 990,00 ₽ in Russian, RUB1,990.00 in English; the amount as sent when it is not a
    number, and without a symbol when the currency is missing."""
    if amount is None:
        return ""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return amount
    if not currency:
        return str(value)
    return str(format_currency(value, currency.upper(), locale=language))


def moment(at: datetime, zone: ZoneInfo, language: str, *, name_zone: bool) -> str:
    """1 декабря, 18:00 in the zone; with the zone's city when the reader never chose a zone,
    so that a time shown in the shop's zone says so."""
    text = str(format_datetime(at, "d MMMM, HH:mm", tzinfo=zone, locale=language))
    if not name_zone:
        return text
    city = get_timezone_location(zone, locale=language, return_city=True)
    return f"{text} ({city})"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def item_names(items: Sequence[Item], more: Callable[[int], str]) -> str:
    """The first few item names, shortened; `more` says how many are left."""
    shown = [shorten(item.name, ITEM_NAME_LENGTH) for item in items[:ITEMS_SHOWN]]
    rest = len(items) - len(shown)
    text = ", ".join(shown)
    return f"{text} {more(rest)}" if rest > 0 else text
