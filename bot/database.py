"""Opening the database the settings name, with its migrations applied."""

from __future__ import annotations

from pathlib import Path

import structlog

from funnel.clock import Clock
from funnel.progress import StagePlan
from funnel.store.base import FunnelStore
from funnel.store.migrations import discover
from funnel.store.open import open_store

log = structlog.get_logger(__name__)


def migrations_dir() -> Path:
    """The copy packed into an installed wheel, or else the repository's migrations/ folder."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    return here.parent / "migrations"


async def open_database(
    url: str, clock: Clock, plan: StagePlan | None = None, *, migrate: bool = True
) -> FunnelStore:
    """Open the store and bring its schema up to date (refusing an inconsistent history)."""
    available = discover(migrations_dir())
    store = await open_store(url, clock, plan)
    try:
        applied = await store.migrate(available) if migrate else []
    except BaseException:
        await store.close()
        raise
    for migration in applied:
        log.info("migration applied", migration=migration.name)
    return store
