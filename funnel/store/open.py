"""Opens the store a DATABASE_URL names. The URL scheme picks the backend."""

from __future__ import annotations

from funnel.clock import Clock
from funnel.progress import StagePlan
from funnel.store.base import FunnelStore, StoreUnavailable

SUPPORTED_SCHEMES = ("sqlite:///",)


async def open_store(url: str, clock: Clock, plan: StagePlan | None = None) -> FunnelStore:
    """The store for the URL; with a plan, funnel progress is kept for those stages."""
    if url.startswith("sqlite:///"):
        from funnel.store.sqlite import SqliteStore

        return await SqliteStore.open(url, clock, plan)
    raise StoreUnavailable(f"DATABASE_URL {url.split(':', 1)[0]!r} is not a supported database")
