"""The seven customers' story, posted as the platforms post it: the normalized events and the
carts, orders and shipments each file must leave, once, in any order of arrival."""

from __future__ import annotations

import random

import pytest

from bot.inbox_worker import InboxWorker
from funnel.store.base import FunnelStore
from tests.webhooks.conftest import (
    ANNA,
    EMILY,
    JONAS,
    MARCUS,
    TOBIAS,
    Client,
    all_samples,
    commerce_events,
    post,
)

EXPECTED = {
    ANNA: {
        ("order_created", "woocommerce"), ("order_paid", "woocommerce"), ("shipped", "cdek"),
        ("in_transit", "cdek"), ("ready_for_pickup", "cdek"), ("delivered", "cdek"),
    },
    EMILY: {
        ("cart_updated", "shopify"), ("checkout_started", "shopify"),
        ("order_created", "shopify"), ("order_paid", "shopify"), ("shipped", "shopify"),
        ("in_transit", "aftership"), ("out_for_delivery", "aftership"),
        ("delivery_failed", "aftership"), ("ready_for_pickup", "aftership"),
        ("delivered", "aftership"),
    },
    MARCUS: {("cart_updated", "shopify"), ("checkout_started", "shopify")},
    TOBIAS: {
        ("order_created", "shopify"), ("shipped", "shopify"),
        ("delivery_failed", "aftership"), ("returned", "aftership"),
    },
    JONAS: {
        ("order_created", "shopify"), ("shipped", "shopify"), ("order_paid", "shopify"),
        ("delivered", "aftership"),
    },
}  # fmt: skip


async def test_every_sample_is_acknowledged_and_normalized(
    client: Client, worker: InboxWorker, store: FunnelStore, customers: dict[int, int]
) -> None:
    for item in all_samples():
        response = await post(client, item.signed())
        assert response.status == 200, (item.name, await response.text())
    outcome = await worker.drain()

    assert (outcome.processed, outcome.failed) == (42, 0)  # 43 files; the ping is not kept
    for telegram_id, expected in EXPECTED.items():
        kept = await commerce_events(store, customers[telegram_id])
        once = [event for event in kept if event[0] != "cart_updated"]  # a cart changes often
        assert len(once) == len(set(once)), f"{telegram_id} has an event twice: {kept}"
        # Emily's delivery is told by Shopify and AfterShip; the first told is kept, once.
        types = {("delivered", "aftership") if event == ("delivered", "shopify") else event
                 for event in kept}  # fmt: skip
        assert types == expected, telegram_id
    emily = await commerce_events(store, customers[EMILY])
    assert sum(1 for event_type, _ in emily if event_type == "delivered") == 1
    # Marcus's cart gained two updates: the first cart and the checkout's new address.
    assert [t for t, _ in await commerce_events(store, customers[MARCUS])].count(
        "cart_updated"
    ) == 2


async def test_entities_keep_what_the_shops_said(
    client: Client, worker: InboxWorker, store: FunnelStore, customers: dict[int, int]
) -> None:
    for item in all_samples():
        await post(client, item.signed())
    await worker.drain()

    async with store.transaction() as tx:
        emily = await tx.find_order("shopify", "6203178491536")
        lena = await tx.find_order("shopify", "5987266152401")
        dmitry = await tx.find_order("woocommerce", "4131")
        anna = await tx.find_order("woocommerce", "4127")
        tobias = await tx.find_order("shopify", "5987265330129")
        ups = await tx.find_shipment("1Z4V78W20391847265")
        anna_parcel = await tx.find_shipment("cdek:72753031-9b4e-4c2a-a6f1-0d5e8c3b7a19")
        dmitry_parcel = await tx.find_shipment("cdek:72753031-c07d-41e8-b2a5-6f9e1d3c4b80")
        marcus_cart = await tx.find_cart(
            "shopify", "Z2NwLXVzLWNlbnRyYWwxOjAxTTFaNlhKTllFQ1RERldHN0VBUEpRMEZR"
        )
        emily_cart = await tx.find_cart(
            "shopify", "Z2NwLXVzLWNlbnRyYWwxOjAxTTIwTVQ2VlMzNzIzMEI2U1I3MUc1NkRO"
        )
    assert emily is not None and emily.customer_id == customers[EMILY]
    assert (emily.facts.status, emily.facts.amount, emily.facts.currency) == (
        "paid",
        "96.96",
        "USD",
    )
    assert emily.facts.number == "#1041" and emily.facts.identity.phone == "+17205550134"
    assert lena is not None and lena.customer_id is None  # no token, no verified phone
    assert lena.facts.status == "refunded"
    assert dmitry is not None and dmitry.customer_id is None
    assert (dmitry.facts.status, dmitry.facts.identity.phone) == ("cancelled", "+79263154088")
    assert anna is not None and anna.customer_id == customers[ANNA]
    assert (anna.facts.status, anna.facts.pickup_point, anna.facts.cash_on_delivery) == (
        "paid", "SPB318", True,
    )  # fmt: skip
    assert anna.facts.paid_at is not None and anna.facts.paid_at.isoformat().startswith(
        "2026-09-12T10:31:08"
    )
    assert tobias is not None and (tobias.facts.status, tobias.facts.cash_on_delivery) == (
        "pending", True,
    )  # fmt: skip
    assert ups is not None and ups.customer_id == customers[EMILY]
    assert (ups.facts.status, ups.facts.carrier) == ("delivered", "UPS")
    assert ups.facts.pickup_point == "UPS Access Point, 2401 E Colfax Ave, Denver, CO 80206"
    assert anna_parcel is not None and anna_parcel.facts.status == "delivered"
    assert anna_parcel.facts.tracking_number == "1582046731"
    # The return parcel's "delivered" is the original coming back, never a delivery.
    assert dmitry_parcel is not None and dmitry_parcel.facts.status == "returned"
    assert marcus_cart is not None and marcus_cart.facts.status == "checkout"
    assert marcus_cart.facts.checkout_url is not None
    assert marcus_cart.facts.checkout_url.startswith("https://northwind-outfitters-demo")
    assert emily_cart is not None and emily_cart.facts.status == "completed"


async def test_redeliveries_and_same_event_deliveries_have_no_second_effect(
    client: Client, worker: InboxWorker, store: FunnelStore, customers: dict[int, int]
) -> None:
    for item in all_samples():
        await post(client, item.signed())
    await worker.drain()
    before = {t: await commerce_events(store, customers[t]) for t in EXPECTED}

    answers = [await (await post(client, item.signed())).json() for item in all_samples()]
    outcome = await worker.drain()

    assert {answer["status"] for answer in answers} == {"duplicate", "pong"}
    assert (outcome.processed, outcome.failed) == (0, 0)
    assert {t: await commerce_events(store, customers[t]) for t in EXPECTED} == before


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_any_order_of_arrival_ends_in_the_same_state(
    client: Client,
    worker: InboxWorker,
    store: FunnelStore,
    customers: dict[int, int],
    seed: int,
) -> None:
    shuffled = all_samples()
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - a reproducible order, not a secret
    for item in shuffled:
        await post(client, item.signed())
    await worker.drain()

    for telegram_id, expected in EXPECTED.items():
        kept = {(t, p) for t, p in await commerce_events(store, customers[telegram_id])}
        types = {t for t, _ in kept}
        assert types == {t for t, _ in expected}, (seed, telegram_id)
    async with store.transaction() as tx:
        statuses = {
            ref: (await tx.find_shipment(ref)).facts.status  # type: ignore[union-attr]
            for ref in ("1Z4V78W20391847265", "00340434528136488217", "00340434528136471905",
                        "cdek:72753031-9b4e-4c2a-a6f1-0d5e8c3b7a19",
                        "cdek:72753031-c07d-41e8-b2a5-6f9e1d3c4b80")
        }  # fmt: skip
        orders = {
            ref: (await tx.find_order(platform, ref)).facts.status  # type: ignore[union-attr]
            for platform, ref in (("shopify", "6203178491536"), ("shopify", "5987266152401"),
                                  ("woocommerce", "4127"), ("woocommerce", "4131"))
        }  # fmt: skip
    assert statuses == {
        "1Z4V78W20391847265": "delivered",
        "00340434528136488217": "returned",
        "00340434528136471905": "delivered",
        "cdek:72753031-9b4e-4c2a-a6f1-0d5e8c3b7a19": "delivered",
        "cdek:72753031-c07d-41e8-b2a5-6f9e1d3c4b80": "returned",
    }
    assert orders == {"6203178491536": "paid", "5987266152401": "refunded",
                      "4127": "paid", "4131": "cancelled"}  # fmt: skip
