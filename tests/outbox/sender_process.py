"""The sender alone in a process, for the crash test: python -m tests.outbox.sender_process."""

from __future__ import annotations

import asyncio
import signal
import sys
from zoneinfo import ZoneInfo

from bot.app import create_bot
from bot.database import open_database
from bot.logging import configure_logging
from bot.messages import renderer
from bot.sandbox.server import SANDBOX_TOKEN
from bot.sender import Pacing, Sender
from funnel.clock import SystemClock
from funnel.definition import load_definition
from funnel.outbox import Policy, QuietHours
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults
from tests.conftest import REPO


async def main(database_url: str, api_url: str, lease_ms: int) -> None:
    configure_logging("WARNING", "json", [])
    clock = SystemClock()
    definition = load_definition(REPO / "funnel.toml")
    store = await open_database(database_url, clock, StagePlan.of(definition))
    bot = create_bot(SANDBOX_TOKEN, api_url)
    zone = ZoneInfo("UTC")
    sender = Sender(
        bot,
        store,
        clock,
        Policy(QuietHours.parse("00:00-00:00"), 3, zone),
        renderer(store, definition, ReportDefaults(zone, 30, 5.0)),
        Pacing(per_second=1000, lease_ms=lease_ms, batch=50),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await sender.run(stop)
    await bot.session.close()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
