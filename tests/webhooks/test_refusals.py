"""What is refused before the inbox, always with a 4xx and a JSON error, and counted for the
admins; and the secrets that make a platform's URL answer at all."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web

from bot.app import create_web_app
from bot.inbox_worker import InboxWorker
from funnel.clock import ManualClock
from funnel.store.base import FunnelStore
from handlers.webhooks.receive import MAX_BODY_BYTES, Webhooks
from tests.webhooks.conftest import SECRETS, Client, generic_signature, post, sample

ORDER_PAID = {
    "id": "evt-1",
    "type": "order_paid",
    "occurred_at": "2026-09-01T12:00:00+03:00",
    "customer": {"phone": "+79154821736"},
    "order": {"id": "A-1", "amount": "1990.00", "currency": "RUB"},
}


async def inbox_size(store: FunnelStore) -> int:
    async with store.transaction() as tx:
        return len(await tx.recent_deliveries(1000))


async def rejections(store: FunnelStore, platform: str) -> dict[str, int]:
    async with store.transaction() as tx:
        rows = {row.platform: row for row in await tx.inbox_overview(0)}
    return rows[platform].rejected if platform in rows else {}


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "aftership"])
async def test_a_forged_or_missing_signature_is_401_and_counted(
    client: Client, store: FunnelStore, platform: str
) -> None:
    item = {"shopify": sample("shopify", "07-orders-create"),
            "woocommerce": sample("woocommerce", "02-order-created"),
            "aftership": sample("aftership", "02-in-transit")}[platform]  # fmt: skip

    forged = await post(client, item.signed("not-the-secret"))
    missing = await post(client, item)
    tampered = item.signed()
    tampered = type(item)(item.platform, item.name, tampered.headers, item.body + b" ")
    altered = await post(client, tampered)

    for response in (forged, missing, altered):
        assert response.status == 401
        assert await response.json() == {"error": "the signature is missing or does not match"}
    assert await inbox_size(store) == 0
    assert await rejections(store, platform) == {"signature": 3}


async def test_shopify_accepts_either_secret_while_they_rotate(client: Client) -> None:
    old = await post(client, sample("shopify", "07-orders-create").signed(SECRETS["shopify"][0]))
    new = await post(client, sample("shopify", "08-orders-paid").signed(SECRETS["shopify"][1]))

    assert (old.status, new.status) == (200, 200)


async def test_the_woocommerce_ping_gets_exactly_200_unsigned(
    client: Client, store: FunnelStore
) -> None:
    ping = sample("woocommerce", "01-ping")

    response = await post(client, ping)

    assert response.status == 200
    assert await inbox_size(store) == 0


async def test_cdek_is_verified_by_the_secret_in_its_path(client: Client) -> None:
    item = sample("cdek", "01-received-at-shipment-warehouse")

    right = await post(client, item)
    wrong = await client.post("/webhooks/cdek/guessed-token", data=item.body, headers=item.headers)
    bare = await client.post("/webhooks/cdek", data=item.body, headers=item.headers)

    assert right.status == 200
    assert (wrong.status, bare.status) == (401, 401)


async def test_a_platform_without_a_secret_is_off(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    store: FunnelStore,
    clock: ManualClock,
) -> None:
    client = await aiohttp_client(
        create_web_app(store=store, clock=clock, webhooks=Webhooks({"cdek": ("x" * 20,)}))
    )
    item = sample("shopify", "07-orders-create").signed()

    response = await post(client, item)
    unknown = await client.post("/webhooks/magento", data=b"{}")

    assert response.status == 404
    assert await response.json() == {"error": "no webhook is enabled at /webhooks/shopify"}
    assert unknown.status == 404


async def test_generic_events_are_signed_over_timestamp_and_body(
    client: Client, clock: ManualClock, store: FunnelStore
) -> None:
    body = json.dumps(ORDER_PAID).encode()
    now = int(clock.now().timestamp())

    fresh = await client.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json",
                 "X-Funnel-Signature": generic_signature(body, now)},
    )  # fmt: skip
    replayed = await client.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json",
                 "X-Funnel-Signature": generic_signature(body, now - 301)},
    )  # fmt: skip
    wrong = await client.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json",
                 "X-Funnel-Signature": generic_signature(body, now, "other")},
    )  # fmt: skip

    assert fresh.status == 200
    assert replayed.status == 401
    assert "more than 5 minutes" in (await replayed.json())["error"]
    assert wrong.status == 401
    assert await inbox_size(store) == 1


async def test_a_generic_signature_five_minutes_old_still_counts(
    client: Client, clock: ManualClock
) -> None:
    body = json.dumps(ORDER_PAID).encode()
    stamp = int((clock.now() - timedelta(seconds=300)).timestamp())

    response = await client.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json",
                 "X-Funnel-Signature": generic_signature(body, stamp)},
    )  # fmt: skip

    assert response.status == 200


async def generic_post(client: Client, clock: ManualClock, payload: object) -> tuple[int, str]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = await client.post(
        "/webhooks/generic", data=body,
        headers={"Content-Type": "application/json",
                 "X-Funnel-Signature": generic_signature(body, int(clock.now().timestamp()))},
    )  # fmt: skip
    return response.status, (await response.json()).get("error", "")


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        (b"{not json", 400, "the body is not a valid JSON object"),
        (b"[1, 2]", 400, "the body is not a valid JSON object"),
        ({**ORDER_PAID, "type": "order_shipped"}, 422, "type: Input should be"),
        ({k: v for k, v in ORDER_PAID.items() if k != "order"}, 422, "needs 'order'"),
        ({**ORDER_PAID, "occurred_at": "2026-09-01T12:00:00"}, 422, "occurred_at"),
        ({**ORDER_PAID, "customer": {"telegram_id": 42}}, 422, "customer.telegram_id"),
    ],
)
async def test_bad_generic_bodies_are_named(
    client: Client, clock: ManualClock, payload: object, status: int, error: str
) -> None:
    got_status, got_error = await generic_post(client, clock, payload)

    assert got_status == status
    assert error in got_error


async def test_the_wrong_content_type_is_415(client: Client) -> None:
    item = sample("aftership", "02-in-transit").signed()
    headers = {**item.headers, "Content-Type": "text/plain"}

    response = await client.post(item.path, data=item.body, headers=headers)

    assert response.status == 415
    assert await response.json() == {"error": "the content type must be application/json"}


async def test_an_unknown_topic_and_a_missing_id_are_refused(client: Client) -> None:
    item = sample("shopify", "07-orders-create")
    unknown = item.signed()
    unknown.headers["X-Shopify-Topic"] = "products/create"
    no_id = type(item)(item.platform, item.name, item.headers, b'{"name": "#1"}').signed()

    first = await post(client, unknown)
    second = await post(client, no_id)

    assert first.status == 400
    assert await first.json() == {"error": "unknown topic 'products/create'"}
    assert second.status == 422
    assert await second.json() == {"error": "the orders/create body needs its 'id'"}


async def test_an_oversized_body_is_413_and_never_read_whole(
    client: Client, store: FunnelStore
) -> None:
    item = sample("shopify", "07-orders-create")
    big = item.body[:-1] + b',"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    oversized = type(item)(item.platform, item.name, item.headers, big).signed()

    response = await client.post(
        oversized.path, data=io.BytesIO(oversized.body), headers=oversized.headers
    )

    assert response.status == 413
    assert "larger than" in (await response.json())["error"]
    assert await rejections(store, "shopify") == {"too large": 1}


async def test_generic_carts_and_shipments_keep_their_deadlines_and_amounts(
    client: Client, clock: ManualClock, store: FunnelStore, worker: InboxWorker
) -> None:
    cart = {
        "id": "evt-cart", "type": "cart_updated", "occurred_at": "2026-09-01T12:00:00+03:00",
        "cart": {"token": "c-1", "checkout_url": "https://shop.example/checkout/c-1",
                 "amount": "3650.00", "currency": "RUB",
                 "items": [{"name": "Da Hong Pao", "quantity": 2, "price": "1100.00"}],
                 "reserved_until": "2026-09-02T18:00:00+03:00"},
    }  # fmt: skip
    parcel = {
        "id": "evt-parcel", "type": "ready_for_pickup",
        "occurred_at": "2026-09-03T10:00:00+03:00",
        "shipment": {"tracking_number": "rb 1234 5678", "carrier": "Boxberry",
                     "order_id": "A-1", "pickup_point": "Тверская, 7",
                     "storage_until": "2026-09-10T21:00:00+03:00",
                     "cod_amount": "3650.00", "cod_currency": "RUB"},
    }  # fmt: skip

    assert (await generic_post(client, clock, cart))[0] == 200
    assert (await generic_post(client, clock, parcel))[0] == 200
    await worker.drain()

    async with store.transaction() as tx:
        kept_cart = await tx.find_cart("generic", "c-1")
        kept_parcel = await tx.find_shipment("RB12345678")
    assert kept_cart is not None and kept_cart.facts.reserved_until is not None
    assert kept_cart.facts.reserved_until.isoformat() == "2026-09-02T15:00:00+00:00"
    assert (kept_cart.facts.amount, kept_cart.facts.checkout_url) == (
        "3650.00", "https://shop.example/checkout/c-1",
    )  # fmt: skip
    assert kept_cart.facts.items[0].name == "Da Hong Pao"
    assert kept_parcel is not None and kept_parcel.facts.status == "ready_for_pickup"
    assert (kept_parcel.facts.cod_amount, kept_parcel.facts.cod_currency) == ("3650.00", "RUB")
    assert kept_parcel.facts.pickup_point == "Тверская, 7"
    assert kept_parcel.facts.storage_until is not None
