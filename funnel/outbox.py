"""Messages the bot sends on its own initiative, and the policy that decides when each may go.

A row moves pending → sending → sent, or ends failed (with a reason), cancelled or expired.
Marketing respects the customer's opt-out, a rolling daily cap and quiet hours in the customer's
time zone; transactional messages ignore the cap and the opt-out, and respect quiet hours only
when their type says so. Nobody who blocked the bot gets anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from funnel.customers import local_zone
from funnel.events import epoch_ms, from_epoch_ms

Kind = Literal["transactional", "marketing"]
TRANSACTIONAL: Kind = "transactional"
MARKETING: Kind = "marketing"
DAY_MS = 86_400_000

PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, CANCELLED, EXPIRED = "failed", "cancelled", "expired"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a capability asks to be sent. The keys make enqueueing and cancelling safe."""

    customer_id: int
    template: str
    kind: Kind
    not_before: datetime
    variables: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    dedupe_key: str | None = None
    cancel_key: str | None = None
    quiet_hours: bool = True
    stop_on_order: bool = False
    # A reminder about this cart: it goes only while the cart is still abandoned.
    cart_id: int | None = None
    # A message about this shipment (its id) in this status: it goes only while the parcel is
    # still in that status.
    shipment: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed row, with what the sender needs to deliver it."""

    id: int
    customer_id: int
    chat_id: int
    language: str | None
    template: str
    variables: Mapping[str, Any]
    kind: Kind
    attempts: int
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the policy needs to know about the customer at send time."""

    blocked: bool
    opted_out: bool
    time_zone: str | None
    marketing_sent_ms: tuple[int, ...]  # their marketing sends in the last 24 h, oldest first
    ordered_since_enqueued: bool = False


@dataclass(frozen=True, slots=True)
class Due:
    """A pending row whose time has come, as the policy sees it."""

    kind: Kind
    quiet_hours: bool
    expires_ms: int | None
    stop_on_order: bool = False
    # Why what it is about no longer needs it (a cart ordered, a parcel moved on), if so.
    stale: str | None = None


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, such as 22:00 to 09:00, in which messages that respect it wait."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text.strip())
        if match is None:
            raise ValueError("must look like 22:00-09:00")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError("hours go up to 23 and minutes up to 59")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first minute at or after moment outside the window, in the zone's local time."""
        local = moment.astimezone(zone)
        if not self.contains(local.time()):
            return moment
        end_today = datetime.combine(local.date(), self.end, zone)
        ends = end_today if end_today > local else end_today + timedelta(days=1)
        # Local wall time: a DST change inside the window moves the end with the clocks.
        return datetime.combine(ends.date(), self.end, zone)


@dataclass(frozen=True, slots=True)
class Policy:
    quiet: QuietHours
    marketing_cap: int
    shop_zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class Send:
    """It may go now."""


@dataclass(frozen=True, slots=True)
class Postpone:
    until_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class End:
    status: str
    reason: str


Decision = Send | Postpone | End


def decide(due: Due, recipient: Recipient, now_ms: int, policy: Policy) -> Decision:
    """May this message go now? If not: when, or never and why."""
    if recipient.blocked:
        return End(CANCELLED, "the customer blocked the bot")
    if due.expires_ms is not None and now_ms > due.expires_ms:
        return End(EXPIRED, "its deadline passed before it could be sent")
    if due.kind == MARKETING and recipient.opted_out:
        return End(CANCELLED, "the customer opted out of marketing")
    if due.stop_on_order and recipient.ordered_since_enqueued:
        return End(CANCELLED, "the customer ordered")
    if due.stale is not None:
        return End(CANCELLED, due.stale)
    earliest = now_ms
    reason = ""
    if due.kind == MARKETING and len(recipient.marketing_sent_ms) >= policy.marketing_cap:
        # Rolling 24 h: the slot frees up when the oldest counted send turns a day old.
        index = len(recipient.marketing_sent_ms) - policy.marketing_cap
        earliest = max(earliest, recipient.marketing_sent_ms[index] + DAY_MS)
        reason = "the daily marketing cap is reached"
    if due.quiet_hours:
        zone = local_zone(recipient.time_zone, policy.shop_zone)
        allowed = epoch_ms(policy.quiet.next_allowed(from_epoch_ms(earliest), zone))
        if allowed > earliest:
            earliest, reason = allowed, "quiet hours"
    if earliest == now_ms:
        return Send()
    if due.expires_ms is not None and earliest > due.expires_ms:
        return End(EXPIRED, f"{reason} last past its deadline")
    return Postpone(earliest, reason)


def backoff_ms(attempt: int, jitter: float) -> int:
    """Exponential backoff after a failed attempt (1-based), with jitter in [0, 1)."""
    base = 1_000 * 2 ** min(attempt - 1, 10)
    return int(base * (0.5 + jitter))
