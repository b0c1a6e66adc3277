"""The sender against Telegram's limits: 10,000 messages to 10,000 chats through the sandbox,
which enforces 30 msg/s overall and 1 msg/s per chat.

    python -m bench.dispatch [--messages N] [--steady N]

Two phases: a burst of messages all due at once (throughput against the cap, and 429s), then
messages falling due at two thirds of the cap (how late each goes out after it is due).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import create_bot
from bot.database import open_database
from bot.logging import configure_logging
from bot.messages import renderer
from bot.sandbox.faults import RateLimits
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.sender import Pacing, Sender
from funnel.clock import SystemClock
from funnel.customers import NewCustomer
from funnel.definition import load_definition
from funnel.events import epoch_ms
from funnel.outbox import TRANSACTIONAL, Intent, Policy, QuietHours
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore

REPO = Path(__file__).resolve().parent.parent
CAP = 30.0
UTC = ZoneInfo("UTC")


async def enqueue(store: FunnelStore, first_chat: int, count: int, spacing_s: float) -> None:
    clock = SystemClock()
    start = clock.now() + timedelta(seconds=1)
    async with store.transaction() as tx:
        for n in range(count):
            who = await tx.add_customer(
                NewCustomer(first_seen_at=start, telegram_user_id=first_chat + n)
            )
            due = start + timedelta(seconds=n * spacing_s)
            await tx.enqueue(
                Intent(who.id, "welcome", TRANSACTIONAL, due, {"first_name": "Bench"},
                       quiet_hours=False),
                epoch_ms(clock.now()),
            )  # fmt: skip


def lateness(path: Path, first_chat: int, count: int) -> list[float]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT o.finished_ms - o.due_ms FROM outbox o JOIN customers c"
            " ON c.id = o.customer_id WHERE c.telegram_user_id BETWEEN ? AND ?"
            " AND o.status = 'sent'",
            (first_chat, first_chat + count - 1),
        ).fetchall()
    return [row[0] / 1000 for row in rows]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--steady", type=int, default=600)
    args = parser.parse_args()
    configure_logging("WARNING", "json", [])
    clock = SystemClock()
    definition = load_definition(REPO / "funnel.toml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dispatch.sqlite3"
        store = await open_database(f"sqlite:///{path}", clock, StagePlan.of(definition))
        async with BotApiSandbox(clock=clock, rate_limits=RateLimits()) as sandbox:
            sandbox.wait_timeout = 3 * args.messages / CAP + 60
            for n in range(args.messages + args.steady):
                sandbox.add_user(Profile(100_000 + n, "Bench", "en"))
            bot = create_bot(sandbox.token, sandbox.url)
            sender = Sender(
                bot, store, clock, Policy(QuietHours.parse("00:00-00:00"), 3, UTC),
                renderer(store, definition, ReportDefaults(UTC, 30, 5.0)),
                Pacing(per_second=CAP),
            )  # fmt: skip
            stop = asyncio.Event()
            running = asyncio.create_task(sender.run(stop))

            await enqueue(store, 100_000, args.messages, 0)
            sender.wake()
            await sandbox.wait_until(lambda: len(sandbox.sent) >= 1)
            began = time.perf_counter()
            await sandbox.wait_until(lambda: len(sandbox.sent) >= args.messages)
            burst_rate = (args.messages - 1) / (time.perf_counter() - began)
            refusals = sandbox.refusals[429]

            steady_first = 100_000 + args.messages
            await enqueue(store, steady_first, args.steady, 1.5 / CAP)
            sender.wake()
            total = args.messages + args.steady
            await sandbox.wait_until(lambda: len(sandbox.sent) >= total)
            stop.set()
            sender.wake()
            await running
            await bot.session.close()
        await store.close()
        late = sorted(lateness(path, steady_first, args.steady))
    p99 = late[int(len(late) * 0.99) - 1]
    print(f"burst: {args.messages:,} messages to {args.messages:,} chats")
    print(f"  {burst_rate:.2f} msg/s = {burst_rate / CAP:.3f} of the {CAP:.0f} msg/s cap "
          f"(target ≥ 0.95) {'ok' if burst_rate / CAP >= 0.95 else 'MISSED'}")  # fmt: skip
    print(f"  429s from the sandbox: {refusals} (target 0) {'ok' if refusals == 0 else 'MISSED'}")
    print(f"steady: {args.steady} messages due at {CAP / 1.5:.0f} msg/s")
    print(f"  due→sent p50 {statistics.median(late):.3f} s, p99 {p99:.3f} s "
          f"(target p99 ≤ 1 s) {'ok' if p99 <= 1 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
