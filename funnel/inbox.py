"""The webhook inbox: deliveries kept from acknowledgement until processed, and what admins see.

A delivery is stored before the platform hears 200, so a crash loses nothing: whatever is still
pending is processed on the next start. One that fails to parse stays, marked failed with the
reason, until it is replayed or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING = "pending"
PROCESSED = "processed"
FAILED = "failed"

DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified delivery on its way into the inbox."""

    platform: str
    delivery_id: str
    topic: str
    headers: dict[str, str]
    body: bytes
    received_ms: int


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    platform: str
    delivery_id: str
    topic: str
    headers: dict[str, str]
    body: bytes
    received_ms: int
    status: str
    attempts: int
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """A delivery as the admin view lists it, without its body."""

    id: int
    platform: str
    topic: str
    received_ms: int
    status: str
    error: str | None


@dataclass(frozen=True, slots=True)
class PlatformInbox:
    platform: str
    received_last_day: int
    last_received_ms: int | None
    pending: int
    failed: int
    rejected: dict[str, int]
    last_rejected_ms: int | None
