"""Keeps funnel progress and the report segments current in SQLite.

After a unit of work has appended its events, the customers it touched are recomputed from their
events (so out-of-order arrival gives the same answer as a rebuild), and the segments their
changes affect are marked stale. Reports repack stale segments before they read them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import aiosqlite

from funnel.progress import FunnelEvent, Progress, StagePlan, analyse
from funnel.segments import DAY_MS, day_of, pack_calendar, pack_cohort
from funnel.store.base import Progressed

COHORT = "cohort"
CALENDAR = "calendar"
# SQLite caps the number of bound parameters in one statement.
_CHUNK = 500
_PROGRESS_COLUMNS = "started_ms, chain, source, magnet, platform, returning_customer"
_BATCH = 5_000
_SETTLE_BATCH = 2_000


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _row(progress: Progress, customer_id: int) -> tuple[object, ...]:
    return (
        customer_id,
        progress.started_ms,
        json.dumps(progress.chain),
        progress.source,
        progress.magnet,
        progress.platform,
        int(progress.returning),
    )


def _progress(row: Sequence[Any]) -> Progress:
    started, chain, source, magnet, platform, returning = row
    return Progress(
        started_ms=int(started),
        chain=tuple(json.loads(chain)),
        source=str(source),
        magnet=str(magnet),
        platform=str(platform),
        returning=bool(returning),
    )


def _attributes(progress: Progress | None) -> tuple[object, ...] | None:
    if progress is None:
        return None
    return (progress.source, progress.magnet, progress.platform, progress.returning)


class ProgressKeeper:
    def __init__(self, connection: aiosqlite.Connection, plan: StagePlan) -> None:
        self._connection = connection
        self._plan = plan
        self._relevant = sorted(plan.relevant_types)
        self._stage_types = sorted(frozenset().union(*plan.types))

    @property
    def relevant_types(self) -> frozenset[str]:
        return self._plan.relevant_types

    async def is_current(self) -> bool:
        """Whether stored progress was computed for these stages; a database without events
        is current for any stages."""
        async with self._connection.execute(
            "SELECT value FROM progress_meta WHERE key = 'stages'"
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return bool(row[0] == self._plan.fingerprint)
        async with self._connection.execute("SELECT 1 FROM events LIMIT 1") as cursor:
            empty = await cursor.fetchone() is None
        if empty:
            await self._mark_current()
        return empty

    async def _mark_current(self) -> None:
        await self._connection.execute(
            "INSERT INTO progress_meta (key, value) VALUES ('stages', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (self._plan.fingerprint,),
        )

    # Reading events --------------------------------------------------------------------------

    async def histories(self, customers: Sequence[int]) -> dict[int, list[FunnelEvent]]:
        found: dict[int, list[FunnelEvent]] = defaultdict(list)
        for chunk in _chunks(customers):
            rows = await self._connection.execute_fetchall(
                "SELECT customer_id, id, type, occurred_ms, source, platform,"
                " CASE WHEN type = 'magnet_delivered'"
                " THEN json_extract(properties, '$.magnet') END"
                f" FROM events WHERE customer_id IN ({_marks(chunk)})"
                f" AND type IN ({_marks(self._relevant)})",
                (*chunk, *self._relevant),
            )
            for row in rows:
                magnet = row[6] if isinstance(row[6], str) else None
                found[row[0]].append(FunnelEvent(row[1], row[2], row[3], row[4], row[5], magnet))
        return found

    async def started_between(self, start_ms: int, end_ms: int) -> list[tuple[int, Progress]]:
        await self.settle_pending()
        async with self._connection.execute(
            f"SELECT customer_id, {_PROGRESS_COLUMNS}"
            " FROM progress WHERE started_ms >= ? AND started_ms < ? ORDER BY started_ms",
            (start_ms, end_ms),
        ) as cursor:
            return [(row[0], _progress(row[1:])) for row in await cursor.fetchall()]

    # Keeping progress current --------------------------------------------------------------

    async def mark_pending(self, customers: Sequence[int], settled_through: int) -> None:
        """Note customers whose events above settled_through are not yet in their progress.

        A customer already waiting keeps the older mark, so nothing is skipped.
        """
        await self._connection.executemany(
            "INSERT INTO progress_pending (customer_id, settled_through) VALUES (?, ?)"
            " ON CONFLICT (customer_id) DO NOTHING",
            [(customer, settled_through) for customer in customers],
        )

    async def settle_pending(self) -> int:
        """Recompute every waiting customer, a batch at a time; returns how many there were."""
        settled = 0
        while batch := await self._connection.execute_fetchall(
            "SELECT customer_id, settled_through FROM progress_pending LIMIT ?", (_SETTLE_BATCH,)
        ):
            marks = {int(customer): int(through) for customer, through in batch}
            await self._settle(marks)
            await self._connection.executemany(
                "DELETE FROM progress_pending WHERE customer_id = ?", [(c,) for c in marks]
            )
            settled += len(marks)
        return settled

    async def _settle(self, marks: dict[int, int]) -> None:
        """What was stored for a customer is exactly the analysis of the events it reflected,
        so the old state is recomputed from those rather than read back."""
        histories = await self.histories(list(marks))
        upserts: list[tuple[object, ...]] = []
        removals: list[tuple[int]] = []
        stale: set[tuple[str, int]] = set()
        for customer, through in marks.items():
            events = histories.get(customer, [])
            old = analyse(self._plan, [e for e in events if e.id <= through])
            new = analyse(self._plan, events)
            if old.progress != new.progress:
                if old.progress is not None:
                    stale.add((COHORT, day_of(old.progress.started_ms)))
                if new.progress is not None:
                    stale.add((COHORT, day_of(new.progress.started_ms)))
                    upserts.append(_row(new.progress, customer))
                else:
                    removals.append((customer,))
            # Every hit carries the customer's attributes: when they change, all hits do.
            attributes_changed = _attributes(old.progress) != _attributes(new.progress)
            changed = new.hits if attributes_changed else new.hits ^ old.hits
            stale.update((CALENDAR, day_of(hit.at_ms)) for hit in changed)
        await self._write(upserts, removals, stale)

    async def _write(
        self,
        upserts: list[tuple[object, ...]],
        removals: list[tuple[int]],
        stale: set[tuple[str, int]],
    ) -> None:
        if upserts:
            await self._connection.executemany(
                f"INSERT INTO progress (customer_id, {_PROGRESS_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET"
                " started_ms = excluded.started_ms, chain = excluded.chain,"
                " source = excluded.source, magnet = excluded.magnet,"
                " platform = excluded.platform, returning_customer = excluded.returning_customer",
                upserts,
            )
        if removals:
            await self._connection.executemany(
                "DELETE FROM progress WHERE customer_id = ?", removals
            )
        if stale:
            await self._connection.executemany(
                "INSERT OR IGNORE INTO stale_segments (kind, day) VALUES (?, ?)", sorted(stale)
            )

    # Segments --------------------------------------------------------------------------------

    async def segments(self, kind: str, first_day: int, last_day: int) -> list[bytes]:
        """The packed segments of the days, settling progress and repacking stale ones first."""
        await self.settle_pending()
        async with self._connection.execute(
            "SELECT day FROM stale_segments WHERE kind = ? AND day BETWEEN ? AND ?",
            (kind, first_day, last_day),
        ) as cursor:
            stale = [row[0] for row in await cursor.fetchall()]
        for day in stale:
            await self._repack(kind, day)
        async with self._connection.execute(
            "SELECT data FROM segments WHERE kind = ? AND day BETWEEN ? AND ? ORDER BY day",
            (kind, first_day, last_day),
        ) as cursor:
            return [bytes(row[0]) for row in await cursor.fetchall()]

    async def _repack(self, kind: str, day: int) -> None:
        data = await (self._cohort_day(day) if kind == COHORT else self._calendar_day(day))
        if data is None:
            await self._connection.execute(
                "DELETE FROM segments WHERE kind = ? AND day = ?", (kind, day)
            )
        else:
            await self._connection.execute(
                "INSERT INTO segments (kind, day, data) VALUES (?, ?, ?)"
                " ON CONFLICT (kind, day) DO UPDATE SET data = excluded.data",
                (kind, day, data),
            )
        await self._connection.execute(
            "DELETE FROM stale_segments WHERE kind = ? AND day = ?", (kind, day)
        )

    async def _cohort_day(self, day: int) -> bytes | None:
        async with self._connection.execute(
            f"SELECT {_PROGRESS_COLUMNS} FROM progress WHERE started_ms >= ? AND started_ms < ?",
            (day * DAY_MS, (day + 1) * DAY_MS),
        ) as cursor:
            rows = [_progress(row) for row in await cursor.fetchall()]
        return pack_cohort(rows, len(self._plan.names)) if rows else None

    async def _calendar_day(self, day: int) -> bytes | None:
        async with self._connection.execute(
            "SELECT DISTINCT customer_id FROM events"
            f" WHERE type IN ({_marks(self._stage_types)})"
            " AND occurred_ms >= ? AND occurred_ms < ?",
            (*self._stage_types, day * DAY_MS, (day + 1) * DAY_MS),
        ) as cursor:
            customers = [row[0] for row in await cursor.fetchall()]
        histories = await self.histories(customers)
        rows: list[tuple[int, int, int, Progress | None]] = []
        for customer in customers:
            analysis = analyse(self._plan, histories.get(customer, []))
            rows.extend(
                (hit.stage, customer, hit.at_ms, analysis.progress)
                for hit in sorted(analysis.hits, key=lambda hit: (hit.at_ms, hit.stage))
                if day_of(hit.at_ms) == day
            )
        return pack_calendar(rows) if rows else None

    # Rebuilding ------------------------------------------------------------------------------

    async def rebuild(self, progressed: Progressed) -> None:
        """Recompute every customer's progress and every segment from the events."""
        for table in ("progress", "progress_pending", "segments", "stale_segments"):
            await self._connection.execute(f"DELETE FROM {table}")  # fixed table names
        async with self._connection.execute(
            f"SELECT count(*) FROM events WHERE type IN ({_marks(self._relevant)})",
            self._relevant,
        ) as cursor:
            row = await cursor.fetchone()
        total = int(row[0]) if row else 0
        days: set[tuple[str, int]] = set()
        done = 0
        upserts: list[tuple[object, ...]] = []
        async for customer, events in self._every_history():
            analysis = analyse(self._plan, events)
            if analysis.progress is not None:
                upserts.append(_row(analysis.progress, customer))
                days.add((COHORT, day_of(analysis.progress.started_ms)))
            days.update((CALENDAR, day_of(hit.at_ms)) for hit in analysis.hits)
            done += len(events)
            if len(upserts) >= _BATCH:
                await self._write(upserts, [], set())
                upserts = []
                progressed(done, total)
        await self._write(upserts, [], set())
        progressed(done, total)
        for kind, day in sorted(days):
            await self._repack(kind, day)
        await self._mark_current()

    async def _every_history(self) -> AsyncIterator[tuple[int, list[FunnelEvent]]]:
        current: int | None = None
        events: list[FunnelEvent] = []
        async with self._connection.execute(
            "SELECT customer_id, id, type, occurred_ms, source, platform,"
            " CASE WHEN type = 'magnet_delivered' THEN json_extract(properties, '$.magnet') END"
            f" FROM events WHERE type IN ({_marks(self._relevant)}) ORDER BY customer_id",
            self._relevant,
        ) as cursor:
            while rows := await cursor.fetchmany(_BATCH):
                for row in rows:
                    if row[0] != current:
                        if current is not None:
                            yield current, events
                        current, events = row[0], []
                    magnet = row[6] if isinstance(row[6], str) else None
                    events.append(FunnelEvent(row[1], row[2], row[3], row[4], row[5], magnet))
        if current is not None:
            yield current, events
