"""Shop tests (cart reminders, delivery messages): signed webhooks posted to the real web
application and processed by the real inbox worker; the real scheduler with every shop job and
the real sender on the sandbox, in virtual time."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_web_app
from bot.cart_jobs import cart_jobs
from bot.inbox_worker import InboxWorker
from bot.messages import renderer
from bot.parcel_jobs import parcel_jobs
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.scheduler import Scheduler
from bot.sender import Pacing, Sender
from funnel.abandonment import CartReminders
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition
from funnel.events import StoredEvent, epoch_ms
from funnel.linking import token_of
from funnel.nudges import CartRules
from funnel.outbox import Policy, QuietHours
from funnel.postbox import Postbox
from funnel.relay import ParcelRelay
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks
from tests.conftest import ADMIN_ID, SHOP_ZONE
from tests.webhooks.conftest import SECRETS, TOKENS, generic_signature, post, sample

Client = TestClient[web.Request, web.Application]
PUBLIC_URL = "https://bot.samovar.example"
QUIET = QuietHours.parse("22:00-09:00")
CHECKOUT = "https://shop.samovar.example/checkout/"
ITEMS = [
    {"name": "Earl Grey, 100 g", "quantity": 1, "price": "590.00"},
    {"name": "Sencha Premium from Shizuoka, first flush of the spring harvest", "quantity": 2,
     "price": "700.00"},
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Buyer:
    """A customer who started the bot, with the link token the shop carries for them."""

    telegram_id: int
    customer_id: int
    link_token: str


class Shop:
    """The shop's side: carts and orders as the generic API sends them, signed, then processed."""

    def __init__(self, client: Client, worker: InboxWorker, clock: ManualClock) -> None:
        self._client = client
        self._worker = worker
        self._clock = clock
        self._ids = count(1)

    async def send(self, event: dict[str, Any]) -> None:
        event = {"id": f"evt-{next(self._ids)}", "occurred_at": self._clock.now().isoformat(),
                 **event}  # fmt: skip
        body = json.dumps(event).encode()
        signature = generic_signature(body, int(self._clock.now().timestamp()))
        response = await self._client.post(
            "/webhooks/generic",
            data=body,
            headers={"Content-Type": "application/json", "X-Funnel-Signature": signature},
        )
        assert response.status == 200, await response.text()
        outcome = await self._worker.drain()
        assert outcome.failed == 0

    async def cart(
        self, buyer: Buyer, token: str, *, items: list[dict[str, Any]] | None = None,
        amount: str | None = "1990.00", reserved_until: datetime | None = None,
    ) -> None:  # fmt: skip
        cart: dict[str, Any] = {
            "token": token, "checkout_url": CHECKOUT + token, "currency": "RUB",
            "items": ITEMS if items is None else items,
        }  # fmt: skip
        if amount is not None:
            cart["amount"] = amount
        if reserved_until is not None:
            cart["reserved_until"] = reserved_until.isoformat()
        await self.send({"type": "cart_updated", "customer": {"link_token": buyer.link_token},
                         "cart": cart})  # fmt: skip

    async def empty(self, buyer: Buyer, token: str) -> None:
        await self.cart(buyer, token, items=[], amount=None)

    async def order(
        self, buyer: Buyer, order_id: str, *, cart_token: str | None, amount: str = "1990.00"
    ) -> None:
        order: dict[str, Any] = {"id": order_id, "number": order_id, "amount": amount,
                                 "currency": "RUB"}  # fmt: skip
        if cart_token is not None:
            order["cart_token"] = cart_token
        await self.send({"type": "order_created", "customer": {"link_token": buyer.link_token},
                         "order": order})  # fmt: skip


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    store: FunnelStore,
    clock: ManualClock,
    definition: FunnelDefinition,
) -> Client:
    app = create_web_app(
        store=store, clock=clock, webhooks=Webhooks(SECRETS), definition=definition
    )
    return await aiohttp_client(app)


@pytest.fixture
def sender(
    bot: Bot, store: FunnelStore, clock: ManualClock, definition: FunnelDefinition
) -> Sender:
    """The real sender with a public URL, so reminder buttons are tracked links."""
    defaults = ReportDefaults(SHOP_ZONE, 30, 5.0)
    render = renderer(store, definition, defaults, clock, public_url=PUBLIC_URL)
    policy = Policy(QUIET, 3, SHOP_ZONE)
    return Sender(bot, store, clock, policy, render, Pacing(), jitter=lambda: 0.0)


@pytest.fixture
def cart_rules(request: pytest.FixtureRequest, definition: FunnelDefinition) -> CartRules:
    """The shipped [carts] rules; a test changes some with indirect parametrization."""
    return definition.carts.model_copy(update=getattr(request, "param", {}))


@pytest.fixture
def postbox(store: FunnelStore, clock: ManualClock, sender: Sender) -> Postbox:
    return Postbox(store, clock, sender.wake)


@pytest.fixture
def scheduler(
    store: FunnelStore, clock: ManualClock, cart_rules: CartRules, sender: Sender,
    definition: FunnelDefinition, postbox: Postbox,
) -> Scheduler:  # fmt: skip
    relay = ParcelRelay(definition.delivery, SHOP_ZONE, QUIET.end)
    jobs = {
        **cart_jobs(store, clock, CartReminders(cart_rules), sender.wake),
        **parcel_jobs(store, clock, relay, postbox, [ADMIN_ID], sender.wake),
    }
    return Scheduler(store, clock, jobs)


@pytest.fixture
def worker(store: FunnelStore, clock: ManualClock) -> InboxWorker:
    return InboxWorker(store, clock, parsers(), region="RU")


@pytest.fixture
def shop(client: Client, worker: InboxWorker, clock: ManualClock) -> Shop:
    return Shop(client, worker, clock)


@pytest.fixture
def buyers(
    store: FunnelStore, clock: ManualClock, sandbox: BotApiSandbox
) -> Callable[..., Awaitable[Buyer]]:
    ids = count(8_000_001)

    async def make(language: str = "en", name: str = "John") -> Buyer:
        profile = sandbox.add_user(Profile(next(ids), name, language))
        async with store.transaction() as tx:
            customer = await tx.add_customer(
                NewCustomer(clock.now(), telegram_user_id=profile.id, language=language)
            )
            token = await token_of(tx, customer.id, clock.now())
        return Buyer(profile.id, customer.id, token)

    return make


class Runner:
    """Lets virtual time pass, running the scheduler's jobs and sending whatever falls due."""

    def __init__(
        self, store: FunnelStore, clock: ManualClock, scheduler: Scheduler, sender: Sender
    ) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.sender = sender

    async def settle(self) -> None:
        busy = True
        while busy:
            busy = bool(await self.scheduler.run_all_due() + await self.sender.drain())

    async def run(self, later: timedelta) -> None:
        end = epoch_ms(self.clock.now() + later)
        while True:
            await self.settle()
            async with self.store.transaction() as tx:
                times = [await tx.next_job_ms(), await tx.next_due_ms()]
            due = min((t for t in times if t is not None), default=None)
            if due is None or due > end:
                break
            self.clock.advance(timedelta(milliseconds=max(due - epoch_ms(self.clock.now()), 0)))
        self.clock.advance(timedelta(milliseconds=end - epoch_ms(self.clock.now())))
        await self.settle()


@pytest.fixture
def runner(store: FunnelStore, clock: ManualClock, scheduler: Scheduler, sender: Sender) -> Runner:
    return Runner(store, clock, scheduler, sender)


async def events_of(store: FunnelStore, customer_id: int, event_type: str) -> list[StoredEvent]:
    async with store.transaction() as tx:
        return [e for e in await tx.events_of(customer_id) if e.event.type == event_type]


async def story_customer(
    store: FunnelStore, sandbox: BotApiSandbox, clock: ManualClock, telegram_id: int,
    language: str = "en", zone: str | None = None,
) -> int:  # fmt: skip
    """One of the payload samples' customers, in the chat, holding their link token."""
    sandbox.add_user(Profile(telegram_id, "Shopper", language))
    async with store.transaction() as tx:
        found = await tx.add_customer(
            NewCustomer(clock.now(), telegram_user_id=telegram_id, language=language)
        )
        await tx.issue_link_token(TOKENS[telegram_id], found.id, epoch_ms(clock.now()))
        if zone is not None:
            await tx.set_time_zone(found.id, zone)
    return found.id


async def deliver(client: Client, worker: InboxWorker, platform: str, *names: str) -> None:
    """Post the platform's samples, signed, and let the worker process them."""
    for name in names:
        response = await post(client, sample(platform, name).signed())
        assert response.status == 200, await response.text()
    outcome = await worker.drain()
    assert outcome.failed == 0


@dataclass(frozen=True, slots=True)
class OutboxLine:
    due_ms: int
    status: str
    reason: str | None


def outbox_lines(tmp_path: Path, template: str) -> list[OutboxLine]:
    """What the outbox holds for a template, read from the test's database file."""
    with sqlite3.connect(tmp_path / "funnel.sqlite3") as db:
        rows = db.execute(
            "SELECT due_ms, status, reason FROM outbox WHERE template = ? ORDER BY id", (template,)
        ).fetchall()
    return [OutboxLine(int(due), str(status), reason) for due, status, reason in rows]
