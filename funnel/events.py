"""Funnel event values, the event types the bot itself emits, and idempotency keys."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BOT_STARTED = "bot_started"
BOT_REENTERED = "bot_reentered"

_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class InvalidEvent(ValueError):
    """An event that must not be stored as it is."""


def is_event_type(name: str) -> bool:
    return _EVENT_TYPE.fullmatch(name) is not None


def derive_key(*parts: object) -> str:
    """A stable idempotency key for a record that arrived without one."""
    canonical = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, in exact integer arithmetic."""
    return (moment - _EPOCH) // _MILLISECOND


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a customer did or that happened to them, as the source reported it."""

    customer_id: int
    type: str
    occurred_at: datetime
    key: str
    source: str | None = None
    platform: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not is_event_type(self.type):
            raise InvalidEvent(f"event type {self.type!r} is not a lower_snake_case name")
        if self.occurred_at.utcoffset() is None:
            raise InvalidEvent("occurred_at must carry a UTC offset")
        if not self.key:
            raise InvalidEvent("an event needs an idempotency key")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event: Event
    received_at: datetime
