"""Stale CDEK parcels: looked up through a local stand-in for CDEK's API (OAuth client
credentials, GET /v2/orders/{uuid}); what it says goes through the inbox like a webhook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.inbox_worker import InboxWorker
from bot.parcel_jobs import STALE_PARCELS_JOB, ensure_stale_poll, stale_parcel_job
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore
from handlers.webhooks.cdek_api import CdekApi
from tests.conftest import ADMIN_ID
from tests.shop.conftest import Client, Runner, deliver, events_of, story_customer
from tests.webhooks.conftest import ANNA

UUID = "72753031-9b4e-4c2a-a6f1-0d5e8c3b7a19"
SECRET = "cdek-api-secret-42"


@dataclass
class FakeCdek:
    """CDEK's API as far as the bot uses it, and what it was asked."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    order_requests: list[str] = field(default_factory=list)

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials", "shop-account", SECRET
        ):  # fmt: skip
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}
        )

    async def order(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer tok-1":
            return web.json_response({"errors": [{"code": "v2_token_expired"}]}, status=401)
        uuid = request.match_info["uuid"]
        self.order_requests.append(uuid)
        entity = {"uuid": uuid, "type": 1, "is_return": False, "cdek_number": "1582046731",
                  "number": "4127", "statuses": self.statuses,
                  "delivery_point": "SPB318"}  # fmt: skip
        return web.json_response({"entity": entity, "requests": []})


@pytest.fixture
async def cdek(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> tuple[FakeCdek, str]:
    fake = FakeCdek()
    app = web.Application()
    app.router.add_post("/v2/oauth/token", fake.token)
    app.router.add_get("/v2/orders/{uuid}", fake.order)
    server = await aiohttp_server(app)
    return fake, str(server.make_url("/"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def poll_once(
    store: FunnelStore, clock: ManualClock, base: str, postbox: Postbox, worker: InboxWorker,
    client_secret: str = SECRET,
) -> None:  # fmt: skip
    async with aiohttp.ClientSession() as http:
        api = CdekApi(http, base, "shop-account", client_secret, clock)
        job = stale_parcel_job(
            store, clock, api, timedelta(hours=24), postbox, [ADMIN_ID], lambda: None
        )
        await ensure_stale_poll(store, clock)
        async with store.transaction() as tx:
            [due] = [j for j in await tx.due_jobs(2**62, 10) if j.kind == STALE_PARCELS_JOB]
        await job(due)
    await worker.drain()


async def test_a_parcel_silent_for_a_day_is_looked_up_and_its_news_told(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock, cdek: tuple[FakeCdek, str], postbox: Postbox,
) -> None:  # fmt: skip
    fake, base = cdek
    anna = await story_customer(store, sandbox, clock, ANNA, "en")
    await runner.run(at("2026-09-09T09:48:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "02-order-created")
    await deliver(client, worker, "cdek", "01-received-at-shipment-warehouse")
    await runner.settle()
    # CDEK's webhooks for the next two moves never arrived.
    fake.statuses = [
        {"code": "RECEIVED_AT_SHIPMENT_WAREHOUSE", "name": "Принят на склад",
         "date_time": "2026-09-09T09:47:12+0000", "city": "Москва"},
        {"code": "SENT_TO_RECIPIENT_CITY", "name": "Отправлен в г. получателя",
         "date_time": "2026-09-09T19:31:40+0000", "city": "Москва"},
        {"code": "ACCEPTED_AT_PICK_UP_POINT", "name": "Принят в пункте выдачи",
         "date_time": "2026-09-10T13:42:27+0000", "city": "Санкт-Петербург"},
    ]  # fmt: skip
    await runner.run(at("2026-09-10T09:00:00+00:00") - clock.now())
    await poll_once(store, clock, base, postbox, worker)  # 23 h: not stale yet
    assert fake.order_requests == []

    await runner.run(at("2026-09-10T14:00:00+00:00") - clock.now())
    await poll_once(store, clock, base, postbox, worker)
    await runner.settle()
    await poll_once(store, clock, base, postbox, worker)  # asked already, and moved on

    assert fake.order_requests == [UUID]
    assert fake.token_requests == 1
    texts = [m.text for m in sandbox.messages_to(ANNA)]
    assert len(texts) == 2
    assert texts[0].startswith("📦 Your order is on its way with CDEK")
    assert texts[1].startswith("📍 Your parcel is waiting at the pickup point: SPB318.")
    moves = [e.event.type for e in await events_of(store, anna, "in_transit")]
    assert moves == ["in_transit"]  # the missed move is in the funnel too


async def test_refused_credentials_alert_the_admins_without_the_secret(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock, cdek: tuple[FakeCdek, str], postbox: Postbox,
) -> None:  # fmt: skip
    fake, base = cdek
    sandbox.add_user(Profile(ADMIN_ID, "Owner", "en"))
    async with store.transaction() as tx:
        await tx.add_customer(NewCustomer(clock.now(), ADMIN_ID, "en"))
    await runner.run(at("2026-09-09T09:48:00+00:00") - clock.now())
    await deliver(client, worker, "cdek", "01-received-at-shipment-warehouse")
    await runner.run(at("2026-09-11T09:48:00+00:00") - clock.now())

    await poll_once(store, clock, base, postbox, worker, client_secret="wrong-secret-99")
    await runner.settle()

    [alert] = [m.text for m in sandbox.messages_to(ADMIN_ID)]
    assert alert == (
        "⚠️ Looking up stale CDEK parcels failed: CDEK refused the credentials (token request"
        " answered 401)"
    )
    assert "wrong-secret-99" not in alert
    assert fake.order_requests == []
