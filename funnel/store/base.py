"""What the funnel needs from storage: backends implement these protocols and hold all the SQL."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from funnel.customers import Customer, NewCustomer
from funnel.events import Event, StoredEvent
from funnel.store.migrations import Migration


class StoreUnavailable(Exception):
    """The database cannot be opened or used; the message says why in one line."""


class FunnelTransaction(Protocol):
    """Reads and writes that commit together or not at all."""

    async def customer_by_telegram(self, telegram_user_id: int) -> Customer | None: ...

    async def add_customer(self, new: NewCustomer) -> Customer: ...

    async def has_event(self, customer_id: int, event_type: str) -> bool: ...

    async def record(self, event: Event) -> bool:
        """Append the event; False when its key was already recorded."""
        ...

    async def events_of(self, customer_id: int) -> list[StoredEvent]: ...

    async def recent_events(self, limit: int) -> list[StoredEvent]: ...


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

    async def close(self) -> None: ...
