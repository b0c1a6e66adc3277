"""kill -9 in the middle of a burst, then a restart: nothing lost, duplicates only in flight."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.database import open_database
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import SystemClock
from funnel.customers import NewCustomer
from funnel.events import epoch_ms
from funnel.outbox import TRANSACTIONAL, Intent
from funnel.progress import StagePlan
from tests.conftest import REPO

MESSAGES = 1_000
LEASE_MS = 300


async def start_sender(database_url: str, api_url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.outbox.sender_process", database_url, api_url,
        str(LEASE_MS), cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
    return process


def statuses(path: Path) -> Counter[str]:
    with sqlite3.connect(path) as db:
        return Counter(row[0] for row in db.execute("SELECT status FROM outbox"))


async def test_a_crash_mid_burst_loses_nothing(
    tmp_path: Path, sandbox: BotApiSandbox, plan: StagePlan
) -> None:
    path = tmp_path / "crash.sqlite3"
    url = f"sqlite:///{path}"
    clock = SystemClock()
    store = await open_database(url, clock, plan)
    past = clock.now() - timedelta(seconds=1)
    async with store.transaction() as tx:
        for n in range(MESSAGES):
            sandbox.add_user(Profile(20_000 + n, f"C{n}", "en"))
            who = await tx.add_customer(
                NewCustomer(first_seen_at=past, telegram_user_id=20_000 + n)
            )
            await tx.enqueue(
                Intent(who.id, "welcome", TRANSACTIONAL, past, {"first_name": f"C{n}"},
                       quiet_hours=False),
                epoch_ms(past),
            )  # fmt: skip
    await store.close()

    def received() -> int:
        return len(sandbox.sent)

    first = await start_sender(url, sandbox.url)
    await sandbox.wait_until(lambda: received() >= MESSAGES // 3)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    at_crash = statuses(path)
    in_flight = at_crash["sending"]

    second = await start_sender(url, sandbox.url)
    await sandbox.wait_until(lambda: len({m.chat_id for m in sandbox.sent}) == MESSAGES)
    second.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.wait(), 30) == 0

    per_chat = Counter(m.chat_id for m in sandbox.sent)
    duplicates = sum(count - 1 for count in per_chat.values())
    assert at_crash["sent"] < MESSAGES  # the crash really came mid-burst
    assert statuses(path) == Counter({"sent": MESSAGES})
    assert len(per_chat) == MESSAGES
    assert duplicates <= in_flight
