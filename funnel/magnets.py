"""Lead magnets and traffic sources from the funnel file, and the deep-link payload naming them.

A payload is `<magnet>--<source>`, `<magnet>`, or (as before magnets) a bare source: ids use
only a-z, 0-9 and _, so the double hyphen cannot be part of either, and every payload fits
Telegram's 64 characters from [A-Za-z0-9_-].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from funnel.durations import Duration, duration
from funnel.sources import DIRECT, UNKNOWN, source_from_payload

SEPARATOR = "--"
Id = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,24}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: dict[Language, str]
    url: Annotated[str, Field(pattern=r"^https://")]


class FollowUp(BaseModel):
    """A message some time after the magnet, walking the customer toward the next product."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    text: dict[Language, str]
    button: Button | None = None
    # A coupon magnet's id: its code goes out with this step, as {code} and {expires}.
    coupon: str | None = None

    @property
    def delay(self) -> timedelta:
        return duration(self.after)


class Magnet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    title: dict[Language, str]
    # What the customer receives: the text alone, or the text as the caption of a file.
    # A coupon magnet's text can name {code} and {expires}.
    kind: Literal["text", "document", "photo", "coupon"] = "text"
    text: dict[Language, str]
    # A local path, an https URL or a Telegram file_id, for documents and photos.
    file: str | None = None
    # What the magnet costs: nothing, the customer's own phone number, an e-mail address, or
    # a subscription to a channel (its @username or numeric id).
    gate: Literal["none", "contact", "email", "channel"] = "none"
    channel: str | None = None
    followups: list[FollowUp] = []
    # Coupons: codes from a loaded pool, or (without a pool) generated: the prefix, a hyphen
    # and ten random characters.
    coupon_pool: str | None = None
    coupon_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,10}$")] = "GIFT"
    coupon_days: Annotated[int, Field(ge=1, le=365)] = 7
    # False: no link asks for it (a cart reminder's discount); only the bot hands it out.
    offered: bool = True


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    utm_source: str
    utm_medium: str | None = None
    utm_campaign: str | None = None

    def utm(self) -> dict[str, str]:
        tags = {
            "utm_source": self.utm_source,
            "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign,
        }
        return {key: value for key, value in tags.items() if value}


@dataclass(frozen=True, slots=True)
class Entry:
    """What a /start payload asks for: a magnet (its id, known or not) and a source."""

    magnet: str | None
    source: str


def payload(magnet: str, source: str | None = None) -> str:
    return f"{magnet}{SEPARATOR}{source}" if source else magnet


def read_payload(text: str | None, magnets: Sequence[Magnet]) -> Entry:
    """The entry a payload names. A payload that is neither a magnet link nor a clean source
    is an unknown source; a magnet link to no configured magnet keeps its id, to be reported."""
    source = source_from_payload(text)
    if text is None or source in (DIRECT, UNKNOWN):
        return Entry(None, source)
    if SEPARATOR in text:
        magnet, _, tail = text.partition(SEPARATOR)
        return Entry(magnet, source_from_payload(tail) if tail else DIRECT)
    if any(m.id == text for m in magnets):
        return Entry(text, DIRECT)
    return Entry(None, source)


def link(bot_username: str, magnet: str, source: str | None) -> str:
    return f"https://t.me/{bot_username}?start={payload(magnet, source)}"


def links_table(bot_username: str, magnets: Sequence[Magnet], sources: Sequence[Source]) -> str:
    """Every magnet and source link, one a line, for printing or pasting into an ad."""
    rows = [(m.id, s.id, link(bot_username, m.id, s.id)) for m in magnets for s in sources]
    if not rows:
        return "No links: the funnel file defines no magnets or no sources."
    width_m = max(len(r[0]) for r in rows)
    width_s = max(len(r[1]) for r in rows)
    return "\n".join(f"{m:<{width_m}}  {s:<{width_s}}  {url}" for m, s, url in rows)


def with_utm(url: str, campaign: str, content: str) -> str:
    """The offer's URL tagged for the shop's analytics; tags already there are kept."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    tags = {
        "utm_source": "telegram",
        "utm_medium": "bot",
        "utm_campaign": campaign,
        "utm_content": content,
    }
    for key, value in tags.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))
