"""The demo's abandoned cart: John leaves tea in his cart, the bot reminds him with the real
deadline, he follows the tracked link and orders, and the owner sees the recovery in /nudges.

Waiting an hour is not a demo, so this part runs the real web server, scheduler and sender on
a clock the demo moves forward, and says how much time passed (quiet hours included).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot

from bot.cart_jobs import cart_jobs
from bot.demo_text import act, show
from bot.inbox_worker import InboxWorker
from bot.messages import renderer
from bot.sandbox.driver import SandboxUser
from bot.scheduler import Scheduler
from bot.sender import Sender
from funnel.abandonment import CartReminders
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.events import epoch_ms
from funnel.linking import token_of
from funnel.outbox import Policy, QuietHours
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore

CART_LIMIT = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class ShopSite:
    """The demo's running web server, the generic API's secret the shop signs with, and the
    clock the server and the shop share."""

    http: aiohttp.ClientSession
    base: str
    secret: str
    worker: InboxWorker
    clock: ManualClock


async def play_cart(
    store: FunnelStore, bot: Bot, site: ShopSite, john: SandboxUser, owner: SandboxUser,
    definition: FunnelDefinition, zone: ZoneInfo, out: TextIO,
) -> None:  # fmt: skip
    clock = site.clock
    defaults = ReportDefaults(zone, 30, 5.0)
    render = renderer(store, definition, defaults, clock, public_url=site.base)
    sender = Sender(bot, store, clock,
                    Policy(QuietHours.parse("22:00-09:00"), 3, zone), render)  # fmt: skip
    scheduler = Scheduler(
        store, clock, cart_jobs(store, clock, CartReminders(definition.carts), sender.wake)
    )
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(john.profile.id)
        if customer is None:
            raise LookupError("John starts the bot earlier in the demo")
        token = await token_of(tx, customer.id, clock.now())
    out.write("\n── John fills a cart on the shop's site from the bot's offer link (it carries "
              "his tg_link) and leaves it (generic API: cart_updated)\n")  # fmt: skip
    cart = {"token": "demo-cart-1", "checkout_url": "https://shop.samovar.example/checkout/1",
            "amount": "3280.00", "currency": "RUB",
            "items": [{"name": "Da Hong Pao, 100 g", "quantity": 2, "price": "1100.00"},
                      {"name": "Gaiwan, 120 ml", "quantity": 1, "price": "1080.00"}]}  # fmt: skip
    await _send(site, out, clock, {"type": "cart_updated", "customer": {"link_token": token},
                                   "cart": cart})  # fmt: skip
    before = len(john.inbox)
    waited = await _until_sent(clock, scheduler, sender, store, john, before)
    held = " (quiet hours held it until the morning)" if waited > definition.carts.idle else ""
    out.write(f"\n── The cart counts as abandoned after an hour; the reminder goes out "
              f"{_hours(waited)} after John left{held}\n")  # fmt: skip
    for message in john.inbox[before:]:
        show(out, message)
    url = john.inbox[-1].buttons()[0]["url"]
    async with site.http.get(url, allow_redirects=False) as response:
        target = response.headers.get("Location", "")
    out.write(f"\n── John taps the button: GET {url.removeprefix(site.base)}  →  "
              f"{response.status} {target}\n")  # fmt: skip
    order = {"id": "demo-order-1", "number": "5002", "cart_token": "demo-cart-1",
             "amount": "3280.00", "currency": "RUB", "items": cart["items"]}  # fmt: skip
    out.write("\n── John completes the checkout (generic API: order_created)\n")
    await _send(site, out, clock, {"type": "order_created", "customer": {"link_token": token},
                                   "order": order})  # fmt: skip
    await scheduler.run_all_due()
    await act(out, "The owner checks the reminders", owner, "/nudges", owner.send("/nudges"))


async def _send(site: ShopSite, out: TextIO, clock: ManualClock, event: dict[str, Any]) -> None:
    body = json.dumps(
        {"id": f"demo-{event['type']}", "occurred_at": clock.now().isoformat(), **event}
    ).encode()
    stamp = int(clock.now().timestamp())
    digest = hmac.new(site.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {"Content-Type": "application/json",
               "X-Funnel-Signature": f"t={stamp},v1={digest.hexdigest()}"}  # fmt: skip
    async with site.http.post(f"{site.base}/webhooks/generic", data=body,
                              headers=headers) as response:  # fmt: skip
        answer = await response.text()
    out.write(f"   {'Shop':>11} ▸ POST /webhooks/generic  →  {response.status} {answer}\n")
    await site.worker.drain()


async def _until_sent(
    clock: ManualClock, scheduler: Scheduler, sender: Sender, store: FunnelStore,
    john: SandboxUser, before: int,
) -> timedelta:  # fmt: skip
    """Move the clock to each next due job or message until John has his reminder."""
    start = clock.now()
    while len(john.inbox) == before and clock.now() - start < CART_LIMIT:
        busy = True
        while busy:
            busy = bool(await scheduler.run_all_due() + await sender.drain())
        if len(john.inbox) > before:
            break
        async with store.transaction() as tx:
            times = [t for t in (await tx.next_job_ms(), await tx.next_due_ms()) if t]
        due = min(times, default=epoch_ms(start + CART_LIMIT))
        clock.advance(timedelta(milliseconds=max(due - epoch_ms(clock.now()), 1)))
    return clock.now() - start


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return "an hour" if round(hours, 2) == 1 else f"{hours:.1f} hours"
