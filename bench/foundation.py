"""The foundation's costs: appending funnel events, and a /start through the real bot.

python -m bench.foundation [--events N] [--starts N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import create_bot, create_dispatcher
from bot.database import open_database
from bot.logging import configure_logging
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import SystemClock
from funnel.customers import NewCustomer
from funnel.definition import load_definition
from funnel.events import Event
from funnel.recorder import record

REPO = Path(__file__).resolve().parent.parent


async def bench_record(folder: Path, events: int) -> None:
    store = await open_database(f"sqlite:///{folder / 'record.sqlite3'}", SystemClock())
    async with store.transaction() as tx:
        customers = [
            (await tx.add_customer(NewCustomer(first_seen_at=datetime.now(UTC)))).id
            for _ in range(1000)
        ]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    batch = [
        Event(
            customer_id=customers[i % len(customers)],
            type="cart_updated",
            occurred_at=start + timedelta(seconds=i),
            key=f"bench:{i}",
            source="vk",
            platform="shopify",
            properties={"total": "96.96", "currency": "USD"},
        )
        for i in range(events)
    ]
    began = time.perf_counter()
    for event in batch:
        await record(store, event)
    elapsed = time.perf_counter() - began
    duplicates_began = time.perf_counter()
    for event in batch[:1000]:
        await record(store, event)
    duplicate_elapsed = time.perf_counter() - duplicates_began
    await store.close()
    print(f"record(): {events} events, one unit of work each")
    print(f"  {events / elapsed:,.0f} events/s, {elapsed / events * 1e6:,.0f} µs per event")
    print(f"  a duplicate key: {duplicate_elapsed / 1000 * 1e6:,.0f} µs (nothing written)")


async def bench_start(folder: Path, starts: int) -> None:
    clock = SystemClock()
    store = await open_database(f"sqlite:///{folder / 'start.sqlite3'}", clock)
    definition = load_definition(REPO / "funnel.toml")
    async with BotApiSandbox() as sandbox:
        bot = create_bot(sandbox.token, sandbox.url)
        dispatcher = create_dispatcher(store=store, clock=clock, definition=definition)
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, handle_as_tasks=False)
        )
        timings = []
        for n in range(starts):
            user = SandboxUser(sandbox, Profile(id=10_000 + n, first_name="Bench"))
            began = time.perf_counter()
            await user.start(f"ad_{n % 10}")
            timings.append((time.perf_counter() - began) * 1000)
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    await store.close()
    quantiles = statistics.quantiles(timings, n=20)
    print(f"/start through aiogram and the sandbox over loopback: {starts} new customers")
    print(
        f"  median {statistics.median(timings):.1f} ms, p95 {quantiles[18]:.1f} ms "
        f"(update in, event stored, reply sent, next getUpdates)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--starts", type=int, default=300)
    args = parser.parse_args()
    # Per-update info lines would be part of what is measured; production keeps them, the
    # numbers below are for the work itself.
    configure_logging("WARNING", "json", [])
    with tempfile.TemporaryDirectory(prefix="funnelbot-bench-") as folder:
        await bench_record(Path(folder), args.events)
        await bench_start(Path(folder), args.starts)


if __name__ == "__main__":
    asyncio.run(main())
