"""Who a shop's order belongs to: a token the bot issued and someone opened, or a phone Telegram
verified; records wait unlinked until then. An e-mail or a Telegram id in a payload never
decides it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from bot.app import create_web_app
from bot.inbox_worker import InboxWorker
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.linking import token_of, with_link_token
from funnel.store.base import FunnelStore
from handlers.webhooks.receive import Webhooks
from tests.conftest import UserFactory
from tests.webhooks.conftest import (
    SECRETS,
    Client,
    Sample,
    commerce_events,
    generic_signature,
    post,
    sample,
)

API_KEY = "shop-api-key-for-tests"


@pytest.fixture
async def shop(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    store: FunnelStore,
    clock: ManualClock,
) -> Client:
    app = create_web_app(
        store=store, clock=clock, api_key=API_KEY, webhooks=Webhooks(SECRETS),
        bot_username="samovar_bot",
    )  # fmt: skip
    return await aiohttp_client(app)


async def customer_of(store: FunnelStore, telegram_id: int) -> int:
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(telegram_id)
    assert customer is not None
    return customer.id


async def paid_order(shop: Client, clock: ManualClock, order_id: str, token: str) -> None:
    body = json.dumps({
        "id": f"evt-{order_id}", "type": "order_paid", "occurred_at": clock.now().isoformat(),
        "customer": {"link_token": token},
        "order": {"id": order_id, "amount": "1990.00", "currency": "RUB"},
    }).encode()  # fmt: skip
    signature = generic_signature(body, int(clock.now().timestamp()))
    response = await shop.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json", "X-Funnel-Signature": signature},
    )  # fmt: skip
    assert response.status == 200


async def test_a_shop_token_ties_the_order_to_whoever_opens_its_link_first(
    shop: Client,
    worker: InboxWorker,
    store: FunnelStore,
    clock: ManualClock,
    make_user: UserFactory,
) -> None:
    issued = await shop.post("/api/link-tokens", headers={"Authorization": f"Bearer {API_KEY}"})
    token = (await issued.json())["token"]
    await paid_order(shop, clock, "A-1", token)
    await worker.drain()
    anna, mallory = make_user("Анна", "ru"), make_user("Mallory", "en")

    [linked] = await anna.start(token)
    [refused] = await mallory.start(token)

    assert issued.status == 201
    assert (await issued.json())["start_url"] == f"https://t.me/samovar_bot?start={token}"
    assert linked.text.startswith("Готово, Анна: ваш заказ связан с этим чатом")
    assert refused.text.startswith("This link has expired or was already used")
    assert await commerce_events(store, await customer_of(store, anna.profile.id)) == [
        ("order_paid", "generic")
    ]
    assert await commerce_events(store, await customer_of(store, mallory.profile.id)) == []
    anna_id = await customer_of(store, anna.profile.id)
    async with store.transaction() as tx:
        order = await tx.find_order("generic", "A-1")
        started = await tx.events_of(anna_id)
    assert order is not None and order.customer_id == anna_id
    # The token proves identity; it is not kept as the entry's payload or source.
    assert (started[0].event.type, started[0].event.source) == ("bot_started", "shop")
    assert token not in json.dumps(dict(started[0].event.properties))


async def test_a_later_order_with_a_claimed_token_links_at_once(
    shop: Client, worker: InboxWorker, store: FunnelStore, clock: ManualClock,
    make_user: UserFactory,
) -> None:  # fmt: skip
    issued = await shop.post("/api/link-tokens", headers={"Authorization": f"Bearer {API_KEY}"})
    token = (await issued.json())["token"]
    anna = make_user("Анна", "ru")
    await anna.start(token)

    await paid_order(shop, clock, "A-2", token)
    await worker.drain()

    assert await commerce_events(store, await customer_of(store, anna.profile.id)) == [
        ("order_paid", "generic")
    ]


async def test_a_token_the_bot_never_issued_links_nothing(
    shop: Client, worker: InboxWorker, store: FunnelStore, clock: ManualClock,
    make_user: UserFactory,
) -> None:  # fmt: skip
    forged = "lt_AAAAAAAAAAAAAAAA"
    await paid_order(shop, clock, "A-3", forged)
    await worker.drain()
    eve = make_user("Eve", "en")

    [reply] = await eve.start(forged)

    assert reply.text.startswith("This link has expired or was already used")
    async with store.transaction() as tx:
        order = await tx.find_order("generic", "A-3")
    assert order is not None and order.customer_id is None


async def test_a_phone_shared_later_links_the_waiting_order_and_its_parcel(
    shop: Client, worker: InboxWorker, store: FunnelStore, make_user: UserFactory
) -> None:
    for item in (sample("woocommerce", "04-order-created").signed(),
                 sample("cdek", "04-received-at-shipment-warehouse"),
                 sample("cdek", "07-accepted-at-pick-up-point")):  # fmt: skip
        await post(shop, item)
    await worker.drain()
    dmitry = make_user("Дмитрий", "ru")

    await dmitry.start("tea_calendar--vk")
    await dmitry.share_contact("79263154088")  # Telegram sends the digits without a plus

    assert await commerce_events(store, await customer_of(store, dmitry.profile.id)) == [
        ("order_created", "woocommerce"),
        ("shipped", "cdek"),
        ("ready_for_pickup", "cdek"),
    ]


async def test_an_email_never_links_an_order(
    shop: Client, worker: InboxWorker, store: FunnelStore, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        lena = await tx.add_customer(
            NewCustomer(first_seen_at=clock.now(), telegram_user_id=777),
            ["email:lena.hoffmann@example.com"],
        )
    await post(shop, sample("shopify", "13-orders-create").signed())
    await worker.drain()

    async with store.transaction() as tx:
        order = await tx.find_order("shopify", "5987266152401")
    assert order is not None and order.customer_id is None
    assert await commerce_events(store, lena.id) == []


async def test_a_telegram_id_in_a_payload_is_ignored(
    shop: Client, worker: InboxWorker, store: FunnelStore, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        target = await tx.add_customer(
            NewCustomer(first_seen_at=clock.now(), telegram_user_id=777)
        )
    item = sample("shopify", "13-orders-create")
    planted = item.body.replace(
        b'"note_attributes":[]',
        b'"note_attributes":[{"name":"telegram_user_id","value":"777"},'
        b'{"name":"tg_link","value":"777"}]',
    )
    assert planted != item.body
    await post(shop, Sample(item.platform, item.name, item.headers, planted).signed())
    await worker.drain()

    assert await commerce_events(store, target.id) == []


async def test_a_cart_carrying_the_token_from_a_bot_link_is_the_customers_at_once(
    shop: Client, worker: InboxWorker, store: FunnelStore, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        john = await tx.add_customer(NewCustomer(first_seen_at=clock.now(), telegram_user_id=9))
        token = await token_of(tx, john.id, clock.now())
        again = await token_of(tx, john.id, clock.now())
    offer = with_link_token("https://shop.example/tea?utm_source=telegram&tg_link=old", token)
    body = json.dumps({
        "id": "evt-cart-9", "type": "cart_updated", "occurred_at": clock.now().isoformat(),
        "customer": {"link_token": parse_qs(urlsplit(offer).query)["tg_link"][0]},
        "cart": {"token": "c-9", "amount": "10.00", "currency": "EUR"},
    }).encode()  # fmt: skip
    signature = generic_signature(body, int(clock.now().timestamp()))

    response = await shop.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json", "X-Funnel-Signature": signature},
    )  # fmt: skip
    await worker.drain()

    assert response.status == 200
    assert again == token
    assert offer == f"https://shop.example/tea?utm_source=telegram&tg_link={token}"
    assert await commerce_events(store, john.id) == [("cart_updated", "generic")]
