"""The one way an event enters the funnel log: idempotent on its key."""

from __future__ import annotations

from funnel.events import Event
from funnel.store.base import FunnelStore


async def record(store: FunnelStore, event: Event) -> bool:
    """Store the event unless its key is known. True when it was new."""
    async with store.transaction() as tx:
        return await tx.record(event)
