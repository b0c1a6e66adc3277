"""The SQLite backend: one aiosqlite connection, serialized units of work, and migrations.

This is the only module that knows the database is SQLite.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from funnel.clock import Clock
from funnel.customers import Customer, NewCustomer
from funnel.events import Event, StoredEvent, epoch_ms
from funnel.inbox import Incoming
from funnel.progress import Progress, StagePlan
from funnel.store.base import PlatformActivity, Progressed, StoreHealth, StoreUnavailable
from funnel.store.migrations import Migration, MigrationError, pending
from funnel.store.sqlite_commerce import SqliteCommerceStatements
from funnel.store.sqlite_coupons import SqliteCouponStatements
from funnel.store.sqlite_gates import SqliteGateStatements
from funnel.store.sqlite_inbox import SqliteInboxStatements, delivery_ids, delivery_insert
from funnel.store.sqlite_nudges import SqliteNudgeStatements
from funnel.store.sqlite_outbox import SqliteOutboxStatements
from funnel.store.sqlite_parcels import SqliteParcelStatements
from funnel.store.sqlite_progress import CALENDAR, COHORT, ProgressKeeper

BUSY_TIMEOUT_MS = 5_000
SETTLE_DELAY_S = 1.0
MEMORY = ":memory:"
log = logging.getLogger(__name__)

_CUSTOMER_COLUMNS = (
    "id, telegram_user_id, language, time_zone, first_seen_at, first_source, opted_out, blocked"
)
_EVENT_COLUMNS = (
    "id, customer_id, type, occurred_at, received_at, source, platform, idempotency_key, "
    "properties"
)


def path_from_url(url: str) -> str:
    """The file a sqlite:/// URL names: relative after three slashes, absolute after four."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        raise StoreUnavailable(f"{url!r} is not a sqlite:///path URL")
    return url[len(prefix) :]


def _utc_text(moment: datetime) -> str:
    # Fixed width so that text order is time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _describe(error: sqlite3.Error, path: str) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"database {path} is locked by another process"
    if "not a database" in text or "malformed" in text:
        return f"database {path} is corrupt or not a SQLite database ({text})"
    return f"database {path} cannot be used: {text}"


class SqliteStore:
    """FunnelStore over one connection. Units of work take a lock, so tasks never interleave."""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        path: str,
        clock: Clock,
        plan: StagePlan | None,
    ) -> None:
        self._connection = connection
        self._path = path
        self._clock = clock
        self._keeper = ProgressKeeper(connection, plan) if plan is not None else None
        self._lock = asyncio.Lock()
        self._settler: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        clock: Clock,
        plan: StagePlan | None = None,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> SqliteStore:
        """Open the database; with a plan, funnel progress is kept for those stages."""
        path = path_from_url(url)
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: transactions are begun and ended here, explicitly.
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreUnavailable(_describe(error, path)) from error
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("SELECT count(*) FROM sqlite_master")
        except sqlite3.Error as error:
            await connection.close()
            raise StoreUnavailable(_describe(error, path)) from error
        return cls(connection, path, clock, plan)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._lock:
            try:
                await self._connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise StoreUnavailable(_describe(error, self._path)) from error
            try:
                tx = SqliteTransaction(self._connection, self._clock, self._keeper)
                yield tx
                waiting = await tx.finish()
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")
        if waiting:
            self._settle_soon()

    async def receive_deliveries(self, deliveries: Sequence[Incoming]) -> list[int | None]:
        if not deliveries:
            return []
        sql, parameters = delivery_insert(deliveries)
        # One statement outside BEGIN ... COMMIT is its own transaction: one trip to the
        # database thread instead of three, and acknowledgements wait on nothing else.
        async with self._lock:
            try:
                rows = await self._connection.execute_fetchall(sql, parameters)
            except sqlite3.Error as error:
                raise StoreUnavailable(_describe(error, self._path)) from error
        return delivery_ids(rows, deliveries)

    def _settle_soon(self) -> None:
        if self._settler is None or self._settler.done():
            self._settler = asyncio.get_running_loop().create_task(self._settle_later())

    async def _settle_later(self) -> None:
        # Waiting a moment gathers what arrives meanwhile into one large, cheaper batch.
        await asyncio.sleep(SETTLE_DELAY_S)
        try:
            await self.settle_progress()
        except (StoreUnavailable, sqlite3.Error, ValueError):
            # Reports settle whatever is still waiting before they read.
            log.warning("funnel progress not settled in the background", exc_info=True)

    async def ping(self) -> None:
        async with self._lock:
            try:
                await self._connection.execute("SELECT 1")
            except (sqlite3.Error, ValueError) as error:
                raise StoreUnavailable(
                    f"database {self._path} does not answer: {error}"
                ) from error

    async def close(self) -> None:
        if self._settler is not None:
            self._settler.cancel()
            with suppress(asyncio.CancelledError):
                await self._settler
        await self._connection.close()

    async def progress_is_current(self) -> bool:
        if self._keeper is None:
            return True
        async with self.transaction():
            return await self._keeper.is_current()

    async def settle_progress(self) -> int:
        if self._keeper is None:
            return 0
        async with self.transaction():
            return await self._keeper.settle_pending()

    async def rebuild_progress(self, progressed: Progressed) -> None:
        if self._keeper is None:
            raise StoreUnavailable("no funnel stages were given, so there is no progress to keep")
        async with self.transaction():
            await self._keeper.rebuild(progressed)

    async def applied_migrations(self) -> dict[int, str]:
        async with self._lock:
            await self._ensure_migrations_table()
            async with self._connection.execute(
                "SELECT version, checksum FROM schema_migrations"
            ) as cursor:
                return {int(row[0]): str(row[1]) for row in await cursor.fetchall()}

    async def migrate(self, available: list[Migration]) -> list[Migration]:
        """Apply what the database lacks, each file in its own transaction; return those."""
        todo = pending(available, await self.applied_migrations())
        for migration in todo:
            await self._apply(migration)
        return todo

    async def _ensure_migrations_table(self) -> None:
        try:
            await self._connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        except sqlite3.Error as error:
            raise StoreUnavailable(_describe(error, self._path)) from error

    async def _apply(self, migration: Migration) -> None:
        statements = split_statements(migration.sql, migration.name)
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    await self._connection.execute(statement)
                await self._connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        migration.version,
                        migration.name,
                        migration.checksum,
                        _utc_text(self._clock.now()),
                    ),
                )
            except sqlite3.Error as error:
                await self._connection.execute("ROLLBACK")
                raise MigrationError(f"migration {migration.name} failed: {error}") from error
            await self._connection.execute("COMMIT")


def split_statements(sql: str, name: str) -> list[str]:
    """Cut a script into statements, keeping trigger bodies whole.

    executescript() would commit any open transaction first, so statements run one by one inside
    the migration's own transaction instead.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if not _only_comments(buffer):
                statements.append(buffer.strip())
            buffer = ""
    if not _only_comments(buffer):
        raise MigrationError(f"migration {name} ends inside a statement: {buffer.strip()[:60]!r}")
    return statements


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


class SqliteTransaction(
    SqliteOutboxStatements,
    SqliteGateStatements,
    SqliteCouponStatements,
    SqliteInboxStatements,
    SqliteCommerceStatements,
    SqliteNudgeStatements,
    SqliteParcelStatements,
):
    def __init__(
        self, connection: aiosqlite.Connection, clock: Clock, keeper: ProgressKeeper | None
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._keeper = keeper
        self._touched: set[int] = set()
        # Events with ids above this were appended by this unit of work.
        self._appended_after: int | None = None

    async def customer_by_telegram(self, telegram_user_id: int) -> Customer | None:
        async with self._connection.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE telegram_user_id = ?",
            (telegram_user_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _customer(row)

    async def customer_by_key(self, key: str) -> Customer | None:
        async with self._connection.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers"
            " WHERE id = (SELECT customer_id FROM customer_keys WHERE key = ?)",
            (key,),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _customer(row)

    async def customer_by_id(self, customer_id: int) -> Customer | None:
        async with self._connection.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _customer(row)

    async def add_customer(self, new: NewCustomer, keys: Sequence[str] = ()) -> Customer:
        async with self._connection.execute(
            "INSERT INTO customers (telegram_user_id, language, first_seen_at, first_source)"
            f" VALUES (?, ?, ?, ?) RETURNING {_CUSTOMER_COLUMNS}",
            (new.telegram_user_id, new.language, _utc_text(new.first_seen_at), new.first_source),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise StoreUnavailable("the database did not return the new customer")
        customer = _customer(row)
        if keys:
            await self._connection.executemany(
                "INSERT INTO customer_keys (key, customer_id, added_at) VALUES (?, ?, ?)",
                [(key, customer.id, _utc_text(self._clock.now())) for key in keys],
            )
        return customer

    async def has_event(self, customer_id: int, event_type: str) -> bool:
        async with self._connection.execute(
            "SELECT 1 FROM events WHERE customer_id = ? AND type = ? LIMIT 1",
            (customer_id, event_type),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def record(self, event: Event) -> bool:
        cursor = await self._connection.execute(
            f"{_INSERT_EVENT} ON CONFLICT (idempotency_key) DO NOTHING",
            self._event_row(event),
        )
        inserted = cursor.rowcount == 1
        if inserted and self._appended_after is None and cursor.lastrowid is not None:
            self._appended_after = cursor.lastrowid - 1
        await cursor.close()
        if inserted:
            self._touch([event])
        return inserted

    async def record_many(self, events: Sequence[Event]) -> int:
        """Append the events whose keys are new, in a few statements whatever their number."""
        unique = list({event.key: event for event in reversed(events)}.values())[::-1]
        known: set[str] = set()
        for start in range(0, len(unique), 500):
            keys = [event.key for event in unique[start : start + 500]]
            # The highest id comes along, so that what this unit appends can be told apart.
            rows = await self._connection.execute_fetchall(
                "SELECT idempotency_key, NULL FROM events"
                f" WHERE idempotency_key IN ({','.join('?' * len(keys))})"
                " UNION ALL SELECT NULL, coalesce(max(id), 0) FROM events",
                keys,
            )
            for key, highest in rows:
                if key is not None:
                    known.add(key)
                elif self._appended_after is None:
                    self._appended_after = int(highest)
        fresh = [event for event in unique if event.key not in known]
        if fresh:
            await self._connection.executemany(
                _INSERT_EVENT, [self._event_row(event) for event in fresh]
            )
            self._touch(fresh)
        return len(fresh)

    async def finish(self) -> bool:
        """Mark the customers this unit of work touched; True when progress now waits."""
        if self._keeper is None or not self._touched or self._appended_after is None:
            return False
        await self._keeper.mark_pending(sorted(self._touched), self._appended_after)
        self._touched.clear()
        return True

    def _touch(self, events: Sequence[Event]) -> None:
        if self._keeper is not None:
            relevant = self._keeper.relevant_types
            self._touched.update(e.customer_id for e in events if e.type in relevant)

    def _event_row(self, event: Event) -> tuple[object, ...]:
        return (
            event.customer_id,
            event.type,
            event.occurred_at.isoformat(),
            epoch_ms(event.occurred_at),
            _utc_text(self._clock.now()),
            event.source,
            event.platform,
            event.key,
            json.dumps(dict(event.properties), ensure_ascii=False, sort_keys=True),
        )

    async def events_of(self, customer_id: int) -> list[StoredEvent]:
        async with self._connection.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE customer_id = ? ORDER BY id",
            (customer_id,),
        ) as cursor:
            return [_stored_event(row) for row in await cursor.fetchall()]

    async def recent_events(self, limit: int) -> list[StoredEvent]:
        async with self._connection.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY id DESC LIMIT ?", (limit,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [_stored_event(row) for row in reversed(list(rows))]

    async def cohort_segments(self, first_day: int, last_day: int) -> list[bytes]:
        return await self._progress_keeper().segments(COHORT, first_day, last_day)

    async def calendar_segments(self, first_day: int, last_day: int) -> list[bytes]:
        return await self._progress_keeper().segments(CALENDAR, first_day, last_day)

    async def progress_between(self, start_ms: int, end_ms: int) -> list[tuple[int, Progress]]:
        return await self._progress_keeper().started_between(start_ms, end_ms)

    async def health(self) -> StoreHealth:
        async with self._connection.execute(
            "SELECT (SELECT page_count * page_size FROM pragma_page_count, pragma_page_size),"
            # Events are never deleted, so the highest id is their count.
            " (SELECT coalesce(max(id), 0) FROM events), (SELECT count(*) FROM customers)"
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise StoreUnavailable("the database did not answer the health query")
        platforms: list[PlatformActivity] = []
        # One index seek per platform instead of a scan of the log.
        async with self._connection.execute(
            "WITH RECURSIVE p(name) AS ("
            " SELECT min(platform) FROM events"
            " UNION ALL SELECT (SELECT min(platform) FROM events WHERE platform > p.name)"
            " FROM p WHERE p.name IS NOT NULL)"
            " SELECT e.platform, e.type, e.received_at FROM p"
            " JOIN events e ON e.id = (SELECT max(id) FROM events WHERE platform = p.name)"
        ) as cursor:
            for name, event_type, received in await cursor.fetchall():
                platforms.append(
                    PlatformActivity(name, event_type, datetime.fromisoformat(received))
                )
        return StoreHealth(int(row[0]), int(row[1]), int(row[2]), platforms)

    def _progress_keeper(self) -> ProgressKeeper:
        if self._keeper is None:
            raise StoreUnavailable("the store was opened without funnel stages")
        return self._keeper


def _customer(row: Any) -> Customer:
    return Customer(
        id=row[0],
        telegram_user_id=row[1],
        language=row[2],
        time_zone=row[3],
        first_seen_at=datetime.fromisoformat(row[4]),
        first_source=row[5],
        opted_out=bool(row[6]),
        blocked=bool(row[7]),
    )


_INSERT_EVENT = (
    "INSERT INTO events (customer_id, type, occurred_at, occurred_ms, received_at,"
    " source, platform, idempotency_key, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _stored_event(row: Any) -> StoredEvent:
    event = Event(
        customer_id=row[1],
        type=row[2],
        occurred_at=datetime.fromisoformat(row[3]),
        source=row[5],
        platform=row[6],
        key=row[7],
        properties=json.loads(row[8]),
    )
    return StoredEvent(id=row[0], event=event, received_at=datetime.fromisoformat(row[4]))
