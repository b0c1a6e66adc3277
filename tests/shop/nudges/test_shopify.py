"""Shopify's own deliveries (the payload samples): Marcus abandons his checkout and is reminded
with Shopify's recovery URL; Emily orders within minutes and hears nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.inbox_worker import InboxWorker
from bot.sandbox.server import BotApiSandbox
from funnel.clock import ManualClock
from funnel.store.base import FunnelStore
from tests.shop.conftest import PUBLIC_URL, Client, Runner, deliver, events_of, story_customer
from tests.webhooks.conftest import EMILY, MARCUS

AMOUNT_AND_ITEMS = "You left Summit Daypack 22L, Ridgeline Merino Socks ($133.87) in your cart."


async def test_an_abandoned_shopify_checkout_is_reminded_with_its_recovery_url(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    clock.advance(datetime(2026, 9, 8, 1, 0, tzinfo=UTC) - clock.now())
    marcus = await story_customer(store, sandbox, clock, MARCUS, zone="America/Chicago")
    await deliver(
        client, worker, "shopify", "01-carts-update", "02-checkouts-create", "03-checkouts-update"
    )

    await runner.run(timedelta(days=2))

    first, second = sandbox.messages_to(MARCUS)
    # The checkout's last update was 00:53 UTC: abandoned at 01:53, 20:53 the day before in
    # Chicago, and held for 24 hours.
    assert first.date == datetime(2026, 9, 8, 1, 53, 18, tzinfo=UTC)
    assert first.text == AMOUNT_AND_ITEMS + " It's held for you until 8 September, 20:53."
    assert second.date == datetime(2026, 9, 8, 20, 53, 18, tzinfo=UTC)
    path = first.buttons()[0]["url"].removeprefix(PUBLIC_URL)
    response = await client.get(path, allow_redirects=False)
    assert response.headers["Location"].startswith(
        "https://northwind-outfitters-demo.myshopify.com/74839201563/checkouts/ac/"
    )
    assert "utm_campaign=abandoned_cart" in response.headers["Location"]
    assert len(await events_of(store, marcus, "cart_abandoned")) == 1


async def test_an_order_within_minutes_means_no_reminder(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    clock.advance(datetime(2026, 9, 8, 14, 0, tzinfo=UTC) - clock.now())
    emily = await story_customer(store, sandbox, clock, EMILY, zone="America/Chicago")
    await deliver(client, worker, "shopify", "04-carts-update", "05-checkouts-create")
    await runner.run(timedelta(minutes=10))
    await deliver(
        client, worker, "shopify", "06-checkouts-update", "07-orders-create", "08-orders-paid"
    )

    await runner.run(timedelta(days=2))

    assert sandbox.messages_to(EMILY) == []
    assert await events_of(store, emily, "cart_abandoned") == []
