"""The shop's side of the demo on a clock the demo moves forward: the real web server, inbox
worker, scheduler (cart and parcel jobs) and sender, so that hours and days pass in a moment
and the demo says how much time passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot

from bot.cart_jobs import cart_jobs
from bot.inbox_worker import InboxWorker
from bot.messages import renderer
from bot.parcel_jobs import parcel_jobs
from bot.sandbox.driver import SandboxUser
from bot.scheduler import Scheduler
from bot.sender import Sender
from funnel.abandonment import CartReminders
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.events import epoch_ms
from funnel.outbox import Policy, QuietHours
from funnel.postbox import Postbox
from funnel.relay import ParcelRelay
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore

QUIET = QuietHours.parse("22:00-09:00")


@dataclass(frozen=True, slots=True)
class ShopSite:
    """The demo's running web server, the generic API's secret the shop signs with, and the
    clock the server and the shop share."""

    http: aiohttp.ClientSession
    base: str
    secret: str
    worker: InboxWorker
    clock: ManualClock


class ShopTime:
    def __init__(
        self, store: FunnelStore, bot: Bot, site: ShopSite, definition: FunnelDefinition,
        zone: ZoneInfo, admin_ids: tuple[int, ...],
    ) -> None:  # fmt: skip
        self.clock = clock = site.clock
        self._store = store
        render = renderer(store, definition, ReportDefaults(zone, 30, 5.0), clock,
                          public_url=site.base)  # fmt: skip
        self._sender = Sender(bot, store, clock, Policy(QUIET, 3, zone), render)
        postbox = Postbox(store, clock, self._sender.wake)
        relay = ParcelRelay(definition.delivery, zone, QUIET.end)
        jobs = {
            **cart_jobs(store, clock, CartReminders(definition.carts), self._sender.wake),
            **parcel_jobs(store, clock, relay, postbox, admin_ids, self._sender.wake),
        }
        self._scheduler = Scheduler(store, clock, jobs)

    async def settle(self) -> None:
        """Run every job and send every message due now."""
        busy = True
        while busy:
            busy = bool(await self._scheduler.run_all_due() + await self._sender.drain())

    async def advance(self, span: timedelta) -> None:
        """Let the time pass, doing what falls due on the way."""
        end = epoch_ms(self.clock.now() + span)
        while (due := await self._next_due()) is not None and due <= end:
            self.clock.advance(timedelta(milliseconds=max(due - epoch_ms(self.clock.now()), 1)))
            await self.settle()
        self.clock.advance(timedelta(milliseconds=max(end - epoch_ms(self.clock.now()), 0)))
        await self.settle()

    async def until_message(self, user: SandboxUser, limit: timedelta) -> timedelta:
        """Move on to each next due job or message until the user gets something new; how
        long that took."""
        start, before = self.clock.now(), len(user.inbox)
        await self.settle()
        while len(user.inbox) == before and self.clock.now() - start < limit:
            due = await self._next_due()
            if due is None:
                break
            self.clock.advance(timedelta(milliseconds=max(due - epoch_ms(self.clock.now()), 1)))
            await self.settle()
        return self.clock.now() - start

    async def _next_due(self) -> int | None:
        async with self._store.transaction() as tx:
            times = [t for t in (await tx.next_job_ms(), await tx.next_due_ms()) if t]
        return min(times, default=None)


def hours(span: timedelta) -> str:
    value = span.total_seconds() / 3600
    if value < 1 / 60:
        return "at once"
    if value < 48:
        return f"{value:.1f} hours later"
    return f"{value / 24:.1f} days later"


async def post_webhook(
    http: aiohttp.ClientSession, out: TextIO, url: str, body: bytes, who: str,
    headers: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Post a delivery as the platform would and print what the server answered."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with http.post(url, data=body, headers=sent) as response:
        answer = await response.text()
    path = url.split("/webhooks/")[1].split("/")[0]
    out.write(f"   {who:>11} ▸ POST /webhooks/{path}  →  {response.status} {answer}\n")
