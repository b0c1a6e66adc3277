"""Abandoned-cart reminders at a big shop's daily volume, against a store with a million events.

    python -m bench.nudges [--carts N] [--background N]

Phases, each through the real code: carts arriving (apply_changes, one unit of work per
delivery, as the inbox worker runs them); an hour later the scheduler noticing every cart and
queueing its first reminder; the outbox claiming those reminders with their send-time exit
checks, against the same number of reminders without a cart (the check's cost); orders for half
the carts with their recovery attribution; and /nudges over the result.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cart_jobs import cart_jobs
from bot.database import open_database
from bot.logging import configure_logging
from bot.scheduler import Scheduler
from funnel.abandonment import CartReminders
from funnel.clock import ManualClock
from funnel.commerce import (
    CART_UPDATED,
    OPEN,
    ORDER_CREATED,
    PENDING,
    CartFacts,
    Change,
    Happening,
    Identity,
    Item,
    OrderFacts,
)
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition, load_definition
from funnel.events import epoch_ms
from funnel.ingest import apply_changes
from funnel.nudge_report import nudge_report
from funnel.outbox import MARKETING, Intent, Policy, QuietHours
from funnel.progress import StagePlan
from funnel.store.base import FunnelStore

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # daytime: quiet hours hold nothing back
EVENTS_PER_BACKGROUND_CUSTOMER = 10
BATCH = 100
POLICY = Policy(QuietHours.parse("22:00-09:00"), 3, ZoneInfo("UTC"))


def seed_background(path: Path, customers: int) -> None:
    """Other customers' history, so every lookup runs against a realistic events table."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    first_seen = (START - timedelta(days=60)).isoformat()
    db.executemany(
        "INSERT INTO customers (id, first_seen_at, telegram_user_id) VALUES (?, ?, ?)",
        ((1_000_000 + n, first_seen, 9_000_000 + n) for n in range(customers)),
    )
    types = ("bot_started", "magnet_delivered", "cart_updated", "order_created", "message_sent")
    rows = (
        (1_000_000 + n // EVENTS_PER_BACKGROUND_CUSTOMER, types[n % len(types)],
         first_seen, epoch_ms(START) - (n % 86_400) * 60_000, first_seen, f"bg:{n}")
        for n in range(customers * EVENTS_PER_BACKGROUND_CUSTOMER)
    )  # fmt: skip
    db.executemany(
        "INSERT INTO events (customer_id, type, occurred_at, occurred_ms, received_at,"
        " idempotency_key) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("COMMIT")
    db.close()


def cart(n: int, token: str, at: datetime) -> Change:
    facts = CartFacts(
        platform="generic", token=f"cart-{n}", status=OPEN, created_at=at, updated_at=at,
        identity=Identity(link_token=token), amount="1990.00", currency="RUB",
        checkout_url=f"https://shop.example/checkout/{n}",
        items=(Item("Da Hong Pao, 100 g", 1, "1100.00"), Item("Gaiwan", 1, "890.00")),
    )  # fmt: skip
    return Change(facts, (Happening(CART_UPDATED, at, f"bench:cart:{n}"),))


def order(n: int, token: str, at: datetime) -> Change:
    facts = OrderFacts(
        platform="generic", platform_id=f"order-{n}", status=PENDING, created_at=at,
        updated_at=at, cart_token=f"cart-{n}", identity=Identity(link_token=token),
        amount="1990.00", currency="RUB",
    )  # fmt: skip
    return Change(facts, (Happening(ORDER_CREATED, at, f"bench:order:{n}"),))


async def customers_with_tokens(store: FunnelStore, count: int, now: datetime) -> list[str]:
    tokens = []
    async with store.transaction() as tx:
        for n in range(count):
            customer = await tx.add_customer(
                NewCustomer(first_seen_at=now, telegram_user_id=5_000_000 + n, language="ru")
            )
            token = f"lt_bench{n:012d}"
            await tx.issue_link_token(token, customer.id, epoch_ms(now))
            tokens.append(token)
    return tokens


async def claim_all(store: FunnelStore, now_ms: int) -> tuple[int, float]:
    """Claim everything due, as the sender does, and mark it sent; the claims' time only."""
    claimed = 0
    spent = 0.0
    while True:
        began = time.perf_counter()
        async with store.transaction() as tx:
            batch = await tx.claim(now_ms, BATCH, 60_000, POLICY)
        spent += time.perf_counter() - began
        if not batch:
            return claimed, spent
        claimed += len(batch)
        async with store.transaction() as tx:
            for message in batch:
                await tx.mark_sent(message.id, now_ms)


async def store_with_background(
    path: Path, clock: ManualClock, plan: StagePlan, customers: int
) -> FunnelStore:
    """A migrated store already holding other customers' history."""
    store = await open_database(f"sqlite:///{path}", clock, plan)
    await store.close()
    began = time.perf_counter()
    seed_background(path, customers)
    print(f"background: {customers:,} customers, "
          f"{customers * EVENTS_PER_BACKGROUND_CUSTOMER:,} events "
          f"({time.perf_counter() - began:.0f} s)")  # fmt: skip
    return await open_database(f"sqlite:///{path}", clock, plan)


async def run(carts: int, background: int) -> None:
    definition = load_definition(REPO / "funnel.toml")
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory(prefix="bench-nudges-") as folder:
        path = Path(folder) / "nudges.sqlite3"
        store = await store_with_background(path, clock, StagePlan.of(definition), background)
        try:
            await phases(store, clock, definition, carts)
        finally:
            await store.close()


async def phases(
    store: FunnelStore, clock: ManualClock, definition: FunnelDefinition, carts: int
) -> None:
    tokens = await customers_with_tokens(store, carts, clock.now())
    scheduler = Scheduler(
        store, clock, cart_jobs(store, clock, CartReminders(definition.carts), lambda: None)
    )

    began = time.perf_counter()
    for n, token in enumerate(tokens):
        async with store.transaction() as tx:
            await apply_changes(tx, [cart(n, token, clock.now())], "generic", 0, clock.now())
    elapsed = time.perf_counter() - began
    print(f"carts in:       {carts:,} deliveries applied, {carts / elapsed:,.0f}/s "
          "(merge, link, record, schedule the idle check)")  # fmt: skip

    clock.advance(timedelta(hours=1))
    began = time.perf_counter()
    jobs = await scheduler.run_all_due()
    elapsed = time.perf_counter() - began
    async with store.transaction() as tx:
        health = await tx.outbox_health(epoch_ms(clock.now()))
    print(f"abandonment:    {jobs:,} jobs in {elapsed:.1f} s: {carts / elapsed:,.0f} carts/s "
          f"noticed and their first reminder queued ({health.pending:,} queued)")  # fmt: skip

    now_ms = epoch_ms(clock.now())
    claimed, with_check = await claim_all(store, now_ms)
    async with store.transaction() as tx:
        for n in range(claimed):
            await tx.enqueue(
                Intent(1_000_000 + n, "welcome", MARKETING, clock.now(),
                       {"first_name": "Bench"}),
                now_ms,
            )  # fmt: skip
    plain, without_check = await claim_all(store, now_ms)
    print(f"claim:          {claimed:,} cart reminders {with_check * 1e6 / claimed:,.0f} µs "
          f"each, {plain:,} other reminders {without_check * 1e6 / plain:,.0f} µs each "
          f"(exit check ×{with_check / without_check:.2f})")  # fmt: skip

    clock.advance(timedelta(hours=2))
    orders = carts // 2
    began = time.perf_counter()
    for n, token in enumerate(tokens[:orders]):
        async with store.transaction() as tx:
            await apply_changes(tx, [order(n, token, clock.now())], "generic", 0, clock.now())
    jobs = await scheduler.run_all_due()
    elapsed = time.perf_counter() - began
    print(f"orders:         {orders:,} orders applied and attributed ({jobs:,} jobs) "
          f"{orders / elapsed:,.0f}/s")  # fmt: skip

    began = time.perf_counter()
    async with store.transaction() as tx:
        report = await nudge_report(tx, 0, 30)
    elapsed = time.perf_counter() - began
    reminded = report.arm("nudged")
    print(f"/nudges:        {elapsed * 1000:,.0f} ms over {reminded.abandoned:,} abandoned carts"
          f" ({reminded.recovered:,} recovered)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carts", type=int, default=20_000)
    parser.add_argument("--background", type=int, default=100_000)
    args = parser.parse_args()
    configure_logging("WARNING", "console", [])
    asyncio.run(run(args.carts, args.background))


if __name__ == "__main__":
    main()
