"""What the funnel needs from storage: backends implement these protocols and hold all the SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from funnel.customers import Customer, NewCustomer
from funnel.events import Event, StoredEvent
from funnel.inbox import Incoming
from funnel.outbox import Intent, Outgoing, Policy
from funnel.progress import Progress
from funnel.store.base_commerce import CommerceTransaction, InboxTransaction
from funnel.store.base_nudges import NudgeTransaction
from funnel.store.base_parcels import ParcelTransaction
from funnel.store.migrations import Migration

Progressed = Callable[[int, int], None]


class StoreUnavailable(Exception):
    """The database cannot be opened or used; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class PlatformActivity:
    platform: str
    last_type: str
    last_received_at: datetime


@dataclass(frozen=True, slots=True)
class StoreHealth:
    size_bytes: int
    events: int
    customers: int
    platforms: list[PlatformActivity]


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str
    due_ms: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    pending: int
    sending: int
    failed_last_day: int
    oldest_due_ms: int | None


@dataclass(frozen=True, slots=True)
class GateRequest:
    """A magnet the customer asked for, waiting until they pass its gate."""

    customer_id: int
    magnet: str
    source: str
    gate: str
    attempts: int


class GateTransaction(Protocol):
    """Customers' phone and e-mail keys, and magnets waiting behind gates."""

    async def add_key(self, customer_id: int, key: str, now_text: str) -> bool: ...

    async def keys_of(self, customer_id: int) -> list[str]: ...

    async def open_gate(
        self, customer_id: int, magnet: str, source: str, gate: str, now_ms: int
    ) -> None: ...

    async def pending_gate(self, customer_id: int) -> GateRequest | None: ...

    async def gate_failed(self, customer_id: int) -> int: ...

    async def close_gate(self, customer_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    pool: str
    expires_ms: int | None


@dataclass(frozen=True, slots=True)
class IssuedCoupon:
    code: str
    pool: str
    customer_id: int | None
    magnet: str | None
    expires_ms: int | None
    redeemed_ms: int | None


class CouponTransaction(Protocol):
    """Coupon pools: loading codes, handing one out, generated codes."""

    async def load_coupons(self, pool: str, codes: Sequence[str]) -> int: ...

    async def coupon_of(
        self, customer_id: int, magnet: str, cart_id: int | None = None
    ) -> Coupon | None:
        """The customer's code from the magnet: the magnet's own, or the one a cart's reminder
        gave (each abandoned cart gets its own, expiring with that cart's deadline)."""
        ...

    async def take_coupon(
        self, pool: str, customer_id: int, magnet: str, now_ms: int, expires_ms: int,
        cart_id: int | None = None,
    ) -> Coupon | None: ...  # fmt: skip

    async def add_issued_coupon(
        self, code: str, pool: str, customer_id: int, magnet: str, now_ms: int, expires_ms: int,
        cart_id: int | None = None,
    ) -> Coupon: ...  # fmt: skip

    async def set_coupon_expiry(self, code: str, expires_ms: int) -> None:
        """Move an unredeemed code's expiry, as a cart's deadline moves."""
        ...

    async def free_coupons(self, pool: str) -> int: ...

    async def coupon(self, code: str) -> IssuedCoupon | None: ...

    async def redeem_coupon(self, code: str, now_ms: int) -> bool: ...


class OutboxTransaction(Protocol):
    """The outbox, the scheduler's jobs and the admins' settings, inside a unit of work."""

    async def enqueue(self, intent: Intent, now_ms: int) -> int: ...

    async def cancel(self, cancel_key: str, reason: str, now_ms: int) -> int: ...

    async def next_due_ms(self) -> int | None: ...

    async def claim(
        self, now_ms: int, limit: int, lease_ms: int, policy: Policy
    ) -> list[Outgoing]: ...

    async def mark_sent(self, row_id: int, now_ms: int) -> None: ...

    async def mark_failed(self, row_id: int, reason: str, now_ms: int) -> None: ...

    async def postpone(self, row_id: int, due_ms: int, reason: str) -> None: ...

    async def give_back(self, row_id: int, due_ms: int) -> None: ...

    async def block_customer(self, customer_id: int, now_ms: int) -> int: ...

    async def opt_out(self, customer_id: int, now_ms: int) -> int: ...

    async def welcome_back(self, customer_id: int) -> None: ...

    async def set_time_zone(self, customer_id: int, zone: str) -> None: ...

    async def set_language(self, customer_id: int, language: str) -> None: ...

    async def outbox_row(self, row_id: int) -> dict[str, Any]: ...

    async def outbox_health(self, now_ms: int) -> OutboxHealth: ...

    async def schedule(
        self, kind: str, key: str, due_ms: int, payload: dict[str, Any], *, replace: bool = True
    ) -> None: ...

    async def due_jobs(self, now_ms: int, limit: int) -> list[Job]: ...

    async def finish_job(self, job: Job) -> None: ...

    async def next_job_ms(self) -> int | None: ...

    async def set_digest(self, telegram_user_id: int, wanted: bool) -> None: ...

    async def digest_opted_out(self) -> set[int]: ...

    async def note_alert(self, key: str, now_ms: int, window_ms: int) -> bool: ...


class FunnelTransaction(
    OutboxTransaction,
    GateTransaction,
    CouponTransaction,
    InboxTransaction,
    CommerceTransaction,
    NudgeTransaction,
    ParcelTransaction,
    Protocol,
):
    """Reads and writes that commit together or not at all.

    Funnel progress for the customers a unit of work touched is brought up to date before it
    commits.
    """

    async def customer_by_telegram(self, telegram_user_id: int) -> Customer | None: ...

    async def customer_by_key(self, key: str) -> Customer | None: ...

    async def customer_by_id(self, customer_id: int) -> Customer | None: ...

    async def add_customer(self, new: NewCustomer, keys: Sequence[str] = ()) -> Customer: ...

    async def has_event(self, customer_id: int, event_type: str) -> bool: ...

    async def record(self, event: Event) -> bool:
        """Append the event; False when its key was already recorded."""
        ...

    async def record_many(self, events: Sequence[Event]) -> int:
        """Append the events whose keys are new; returns how many were."""
        ...

    async def events_of(self, customer_id: int) -> list[StoredEvent]: ...

    async def recent_events(self, limit: int) -> list[StoredEvent]: ...

    async def cohort_segments(self, first_day: int, last_day: int) -> list[bytes]: ...

    async def calendar_segments(self, first_day: int, last_day: int) -> list[bytes]: ...

    async def progress_between(self, start_ms: int, end_ms: int) -> list[tuple[int, Progress]]:
        """(customer id, progress) of the customers whose first stage is in [start, end)."""
        ...

    async def health(self) -> StoreHealth: ...


class FunnelStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[FunnelTransaction]:
        """One unit of work. Units run one at a time, so concurrent tasks never interleave."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        ...

    async def receive_deliveries(self, deliveries: Sequence[Incoming]) -> list[int | None]:
        """Keep webhook deliveries atomically, outside any unit of work and as cheaply as the
        database allows: for each, its inbox id, or None when its delivery id was kept before."""
        ...

    async def migrate(self, available: list[Migration]) -> list[Migration]:
        """Apply the migrations the database lacks; return those applied now."""
        ...

    async def progress_is_current(self) -> bool:
        """False when the stages changed since progress was computed: rebuild it."""
        ...

    async def settle_progress(self) -> int:
        """Bring every waiting customer's progress up to date now; returns how many."""
        ...

    async def rebuild_progress(self, progressed: Progressed) -> None:
        """Recompute all progress from the events; progressed(done, total) reports the way."""
        ...

    async def close(self) -> None: ...
