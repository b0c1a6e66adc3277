"""The server side of bench.ingest: the real application with its inbox worker, or a bare
aiohttp handler that answers 200 and nothing else, on a port, until killed.

    python -m bench.ingest_server --port N (--bare | --database sqlite:///path)
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from bench.ingest_common import SECRET
from bot.app import create_web_app
from bot.database import open_database
from bot.inbox_worker import InboxWorker
from bot.logging import configure_logging
from bot.runtime import tune_garbage_collector
from funnel.clock import SystemClock
from funnel.definition import load_definition
from funnel.progress import StagePlan
from handlers.webhooks.intake import Intake
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks

REPO = Path(__file__).resolve().parent.parent


async def bare(_: web.Request) -> web.Response:
    return web.Response(status=200)


async def serve(port: int, database: str | None) -> None:
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if database is None:
        app = web.Application()
        app.router.add_post("/webhooks/shopify", bare)
    else:
        clock = SystemClock()
        plan = StagePlan.of(load_definition(REPO / "funnel.toml"))
        store = await open_database(database, clock, plan)
        intake = Intake(store)
        worker = InboxWorker(store, clock, parsers(), region="US", busy=intake.busy)
        webhooks = Webhooks({"shopify": (SECRET,)}, worker.wake, intake)
        app = create_web_app(store=store, clock=clock, webhooks=webhooks)
        tasks.append(asyncio.create_task(worker.run(stop)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    tune_garbage_collector()  # as `funnelbot run` does, for both servers
    print("ready", flush=True)
    await stop.wait()  # until the benchmark kills the process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--bare", action="store_true")
    which.add_argument("--database")
    args = parser.parse_args()
    configure_logging("WARNING", "json", [SECRET])
    asyncio.run(serve(args.port, None if args.bare else args.database))


if __name__ == "__main__":
    main()
