"""What the funnel needs from storage: backends implement these protocols and hold all the SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from funnel.customers import Customer, NewCustomer
from funnel.events import Event, StoredEvent
from funnel.progress import Progress
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


class FunnelTransaction(Protocol):
    """Reads and writes that commit together or not at all.

    Funnel progress for the customers a unit of work touched is brought up to date before it
    commits.
    """

    async def customer_by_telegram(self, telegram_user_id: int) -> Customer | None: ...

    async def customer_by_key(self, key: str) -> Customer | None: ...

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
