"""Delivery-status messages at a big shop's volume, against a store with a million events.

    python -m bench.parcels [--parcels N] [--background N] [--stale N]

Phases, through the real code: each parcel's four statuses applied (apply_changes, one unit of
work per delivery, as the inbox worker runs them) with the relay job deciding and enqueueing
each message; the outbox claiming them with the send-time parcel check; /delivery over the
result; and stale CDEK parcels looked up through a local stand-in for CDEK's API.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bench.nudges import POLICY, claim_all, customers_with_tokens, store_with_background
from bot.logging import configure_logging
from bot.parcel_jobs import parcel_jobs, stale_parcel_job
from bot.scheduler import Scheduler
from funnel import commerce as c
from funnel.clock import ManualClock
from funnel.commerce import Change, Happening, Identity, ShipmentFacts
from funnel.definition import FunnelDefinition, load_definition
from funnel.delivery_report import delivery_report
from funnel.events import epoch_ms
from funnel.ingest import apply_changes
from funnel.postbox import Postbox
from funnel.progress import StagePlan
from funnel.relay import ParcelRelay
from funnel.store.base import FunnelStore, Job
from handlers.webhooks.cdek_api import CdekApi

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
JOURNEY = (c.SHIPPED, c.IN_TRANSIT, c.READY_FOR_PICKUP, c.DELIVERED)


def parcel(n: int, token: str | None, status: str, at: datetime) -> ShipmentFacts:
    return ShipmentFacts(
        ref=f"cdek:bench-{n}", status=status, status_at=at, identity=Identity(link_token=token),
        carrier="cdek", tracking_number=f"15{n:08d}", pickup_point="MSK42",
    )  # fmt: skip


def move(n: int, token: str, status: str, at: datetime) -> Change:
    facts = parcel(n, token, status, at)
    return Change(facts, (Happening(status, at, f"shipment:{facts.ref}:{status}"),))


async def journeys(
    store: FunnelStore, clock: ManualClock, definition: FunnelDefinition, parcels: int
) -> None:
    tokens = await customers_with_tokens(store, parcels, clock.now())
    postbox = Postbox(store, clock)
    relay = ParcelRelay(definition.delivery, ZoneInfo("UTC"), POLICY.quiet.end)
    scheduler = Scheduler(
        store, clock, parcel_jobs(store, clock, relay, postbox, [], lambda: None)
    )
    applied = claimed = 0
    applying = claiming = 0.0
    for status in JOURNEY:
        began = time.perf_counter()
        for n, token in enumerate(tokens):
            async with store.transaction() as tx:
                await apply_changes(tx, [move(n, token, status, clock.now())], "cdek", 0,
                                    clock.now())  # fmt: skip
            applied += 1
        await scheduler.run_all_due()
        applying += time.perf_counter() - began
        # The sender's claim, with its check that each parcel is still in the status told.
        count, spent = await claim_all(store, epoch_ms(clock.now()))
        claimed, claiming = claimed + count, claiming + spent
        clock.advance(timedelta(hours=3))  # daytime throughout: every message may go
    print(f"statuses:       {applied:,} deliveries applied and relayed in {applying:.1f} s: "
          f"{applied / applying:,.0f}/s")  # fmt: skip
    each = claiming * 1e6 / max(claimed, 1)
    print(f"claim:          {claimed:,} parcel messages, {each:,.0f} µs each with the send-time"
          " parcel check")  # fmt: skip

    began = time.perf_counter()
    async with store.transaction() as tx:
        report = await delivery_report(tx, definition.delivery, 0, 30)
    print(f"/delivery:      {(time.perf_counter() - began) * 1000:,.0f} ms over "
          f"{sum(report.statuses.values()):,} parcels")  # fmt: skip


async def stale_lookups(store: FunnelStore, clock: ManualClock, count: int) -> None:
    async def token(_: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "expires_in": 3600})

    async def order(request: web.Request) -> web.Response:
        uuid = request.match_info["uuid"]
        statuses = [{"code": "ACCEPTED_AT_PICK_UP_POINT", "date_time": "2026-09-20T10:00:00+0000",
                     "city": "Москва"}]  # fmt: skip
        entity = {"uuid": uuid, "cdek_number": uuid[-6:], "number": uuid, "statuses": statuses}
        return web.json_response({"entity": entity})

    app = web.Application()
    app.router.add_post("/v2/oauth/token", token)
    app.router.add_get("/v2/orders/{uuid}", order)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with store.transaction() as tx:
        for n in range(count):
            stale = parcel(1_000_000 + n, None, c.SHIPPED, clock.now() - timedelta(days=2))
            await tx.save_shipment(stale, c.SHIPMENT_RANK[c.SHIPPED], None, None, 0)
    try:
        async with aiohttp.ClientSession() as http:
            api = CdekApi(http, site.name, "bench", "bench-secret", clock)
            poll = stale_parcel_job(store, clock, api, timedelta(hours=24),
                                    Postbox(store, clock), [], lambda: None)  # fmt: skip
            began = time.perf_counter()
            stale_since = epoch_ms(clock.now() - timedelta(hours=24))
            while True:
                async with store.transaction() as tx:
                    if not await tx.stale_parcels("cdek:", stale_since, 1):
                        break
                await poll(Job(0, "stale_parcels", "bench", 0, {}))
            elapsed = time.perf_counter() - began
    finally:
        await runner.cleanup()
    print(f"stale lookups:  {count:,} parcels asked and their statuses kept in {elapsed:.1f} s: "
          f"{count / elapsed:,.0f}/s (one request at a time, loopback stand-in)")  # fmt: skip


async def run(parcels: int, background: int, stale: int) -> None:
    definition = load_definition(REPO / "funnel.toml")
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory(prefix="bench-parcels-") as folder:
        path = Path(folder) / "parcels.sqlite3"
        store = await store_with_background(path, clock, StagePlan.of(definition), background)
        try:
            await journeys(store, clock, definition, parcels)
            await stale_lookups(store, clock, stale)
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--stale", type=int, default=1_000)
    args = parser.parse_args()
    configure_logging("WARNING", "console", [])
    asyncio.run(run(args.parcels, args.background, args.stale))


if __name__ == "__main__":
    main()
