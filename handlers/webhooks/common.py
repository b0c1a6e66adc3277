"""What every platform's webhook shares: refusals, envelopes, and the small parsing helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from funnel.identity import normalize_phone
from funnel.linking import TOKEN

LINK_TOKEN = re.compile(rf"\b{TOKEN.pattern}\b")
# The names under which shops pass a link token: note attribute, order meta, line property.
LINK_FIELDS = ("tg_link", "_tg_link")


class Refused(Exception):
    """A delivery refused before the inbox: HTTP status and the one-line reason sent back."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Unparseable(ValueError):
    """A stored delivery whose content cannot be turned into events; kept as failed."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What acknowledging a delivery needs: its id for deduplication and its topic."""

    delivery_id: str
    topic: str


class Model(BaseModel):
    """Platform payload models read what they need and ignore the rest."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, its name compared without case ('' when absent)."""
    # aiohttp's headers already ignore case; a plain dict (a stored delivery) may not.
    found = headers.get(name)
    if found is not None:
        return found
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. Raises ValueError for anything else.

    orjson: acknowledging a delivery needs only this, and it is a tenth of json's cost.
    """
    document = orjson.loads(body)
    if not isinstance(document, dict):
        raise ValueError("the body is not a JSON object")
    return document


def link_token_in(values: Iterable[object]) -> str | None:
    """The first link token the bot issued found among the values (exactly or inside text)."""
    for value in values:
        if isinstance(value, str):
            found = LINK_TOKEN.search(value)
            if found:
                return found.group(0)
    return None


def phone_of(candidates: Iterable[tuple[str | None, str | None]], region: str) -> str | None:
    """The first valid phone, E.164, from (number, country code) pairs; the shop's region
    stands in for a number written without a country code and an address without one."""
    for number, country in candidates:
        if number:
            phone = normalize_phone(number, (country or region).upper())
            if phone is not None:
                return phone
    return None


def money(value: object) -> str | None:
    """A decimal amount as exact text ("96.96"); None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return str(amount) if amount.is_finite() else None


def utc(text: str) -> datetime:
    """A timestamp that may lack an offset (WooCommerce's *_gmt fields), read as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def base64_hmac_valid(offered: str, body: bytes, secrets: Sequence[str]) -> bool:
    """Whether offered is the base64 HMAC-SHA256 of the body under one of the secrets.

    Every secret is tried and compared in constant time, so the time taken tells nothing.
    """
    wanted = offered.strip().encode()
    valid = False
    for secret in secrets:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        valid |= hmac.compare_digest(base64.b64encode(digest), wanted)
    return valid and bool(wanted)


def first_problem(error: ValidationError) -> str:
    """The first thing a model found wrong, as `field.path: message`."""
    first = error.errors()[0]
    place = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{place}: {first['msg']}"
