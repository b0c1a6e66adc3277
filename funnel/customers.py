"""Customers: one person, however the shop and the bot know them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    telegram_user_id: int | None
    language: str | None
    time_zone: str | None
    first_seen_at: datetime
    first_source: str | None
    opted_out: bool
    blocked: bool


@dataclass(frozen=True, slots=True)
class NewCustomer:
    first_seen_at: datetime
    telegram_user_id: int | None = None
    language: str | None = None
    first_source: str | None = None


def pick_language(language_code: str | None, supported: tuple[str, ...], default: str) -> str:
    """The supported language closest to a Telegram language_code such as 'en-US'."""
    if language_code:
        primary = language_code.replace("_", "-").split("-", 1)[0].lower()
        if primary in supported:
            return primary
    return default


def local_zone(time_zone: str | None, shop_zone: ZoneInfo) -> ZoneInfo:
    """The customer's own time zone when they set one, the shop's otherwise."""
    return ZoneInfo(time_zone) if time_zone else shop_zone
