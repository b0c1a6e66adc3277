"""The SQLite store: the event log's guarantees, serialized units of work, clear failures."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.database import open_database
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.events import Event, InvalidEvent
from funnel.recorder import record
from funnel.store.base import FunnelStore, StoreUnavailable
from funnel.store.sqlite import SqliteStore

MOSCOW = timezone(timedelta(hours=3))


async def new_customer(store: FunnelStore, clock: ManualClock, telegram_user_id: int) -> int:
    async with store.transaction() as tx:
        customer = await tx.add_customer(
            NewCustomer(first_seen_at=clock.now(), telegram_user_id=telegram_user_id)
        )
    return customer.id


async def test_record_is_idempotent_on_the_key(store: FunnelStore, clock: ManualClock) -> None:
    customer = await new_customer(store, clock, 1)
    event = Event(customer, "order_paid", clock.now(), key="shopify:order:1:paid")

    assert await record(store, event) is True
    assert await record(store, event) is False

    async with store.transaction() as tx:
        assert len(await tx.events_of(customer)) == 1


async def test_the_source_offset_and_the_receipt_time_are_both_kept(
    store: FunnelStore, clock: ManualClock
) -> None:
    customer = await new_customer(store, clock, 1)
    at_source = datetime(2026, 9, 1, 14, 30, tzinfo=MOSCOW)
    clock.advance(timedelta(minutes=5))

    await record(
        store,
        Event(
            customer,
            "order_created",
            at_source,
            key="k",
            source="vk",
            platform="woocommerce",
            properties={"total": "1490.00", "currency": "RUB", "items": ["Пуэр"]},
        ),
    )

    async with store.transaction() as tx:
        [stored] = await tx.events_of(customer)
    assert stored.event.occurred_at.isoformat() == "2026-09-01T14:30:00+03:00"
    assert stored.received_at == clock.now()
    assert stored.event.properties == {"total": "1490.00", "currency": "RUB", "items": ["Пуэр"]}
    assert (stored.event.source, stored.event.platform) == ("vk", "woocommerce")


def test_events_need_an_offset_a_key_and_a_sane_type() -> None:
    with pytest.raises(InvalidEvent, match="UTC offset"):
        Event(1, "order_paid", datetime(2026, 9, 1), key="k")
    with pytest.raises(InvalidEvent, match="idempotency key"):
        Event(1, "order_paid", datetime(2026, 9, 1, tzinfo=MOSCOW), key="")
    with pytest.raises(InvalidEvent, match="lower_snake_case"):
        Event(1, "Order Paid", datetime(2026, 9, 1, tzinfo=MOSCOW), key="k")


async def test_the_event_log_is_append_only(
    tmp_path: Path, store: FunnelStore, clock: ManualClock
) -> None:
    customer = await new_customer(store, clock, 1)
    await record(store, Event(customer, "bot_started", clock.now(), key="k"))

    with sqlite3.connect(tmp_path / "funnel.sqlite3") as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE events SET type = 'order_paid'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM events")


async def test_concurrent_units_of_work_never_interleave(
    store: FunnelStore, clock: ManualClock
) -> None:
    """Two tasks doing get-or-create for one person end with one customer and no error."""

    async def get_or_create() -> int:
        async with store.transaction() as tx:
            existing = await tx.customer_by_telegram(42)
            await asyncio.sleep(0)  # let the other task run, were it allowed in
            if existing is not None:
                return existing.id
            created = await tx.add_customer(
                NewCustomer(first_seen_at=clock.now(), telegram_user_id=42)
            )
            return created.id

    ids = await asyncio.gather(*(get_or_create() for _ in range(10)))

    assert len(set(ids)) == 1


async def test_a_failed_unit_of_work_is_rolled_back(
    store: FunnelStore, clock: ManualClock
) -> None:
    async def half_done() -> None:
        async with store.transaction() as tx:
            await tx.add_customer(NewCustomer(first_seen_at=clock.now(), telegram_user_id=7))
            raise RuntimeError("the handler failed half-way")

    with pytest.raises(RuntimeError):
        await half_done()

    async with store.transaction() as tx:
        assert await tx.customer_by_telegram(7) is None


async def test_the_connection_is_tuned_for_a_single_writer(
    tmp_path: Path, store: FunnelStore
) -> None:
    assert isinstance(store, SqliteStore)
    with sqlite3.connect(tmp_path / "funnel.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    orphan = Event(999, "bot_started", datetime(2026, 9, 1, tzinfo=MOSCOW), key="orphan")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await record(store, orphan)


async def test_a_database_in_a_missing_folder_gets_the_folder(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "var" / "nested" / "funnel.sqlite3"

    store = await open_database(f"sqlite:///{path}", clock)
    await store.close()

    assert path.exists()


async def test_a_corrupt_file_is_one_clear_error(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database" * 200)

    with pytest.raises(StoreUnavailable, match="corrupt or not a SQLite database"):
        await open_database(f"sqlite:///{path}", clock)


async def test_a_locked_file_is_one_clear_error(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="is locked by another process"):
            await SqliteStore.open(f"sqlite:///{path}", clock, busy_timeout_ms=0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
