"""Clicks through the tracked link, recoveries, the holdout, the cooldown and /nudges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiogram import Bot

from bot.messages import renderer
from bot.sandbox.server import BotApiSandbox
from bot.sender import Pacing, Sender
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.nudge_report import lift_text, nudge_report, steps_text, summary_text
from funnel.nudges import in_holdout
from funnel.outbox import Policy, QuietHours
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from tests.conftest import SHOP_ZONE
from tests.shop.conftest import CHECKOUT, PUBLIC_URL, Buyer, Client, Runner, Shop, events_of

Buyers = Callable[..., Awaitable[Buyer]]


def link_path(url: str) -> str:
    assert url.startswith(PUBLIC_URL)
    return url.removeprefix(PUBLIC_URL)


async def test_a_click_is_counted_and_redirected_and_the_order_recovered_via_the_link(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    client: Client, clock: ManualClock,
) -> None:  # fmt: skip
    john = await buyers()
    await shop.cart(john, "c-1")
    await runner.run(timedelta(hours=2))
    [reminder] = sandbox.messages_to(john.telegram_id)
    path = link_path(reminder.buttons()[0]["url"])

    first = await client.get(path, allow_redirects=False)
    again = await client.get(path, allow_redirects=False)
    await shop.order(john, "1001", cart_token="c-1", amount="1990.00")
    await runner.run(timedelta(hours=1))

    assert first.status == again.status == 302
    assert first.headers["Location"] == (
        f"{CHECKOUT}c-1?utm_source=telegram&utm_medium=bot&utm_campaign=abandoned_cart"
        "&utm_content=reminder_1"
    )
    assert first.headers["Cache-Control"] == "no-store"
    [clicked] = await events_of(store, john.customer_id, "nudge_clicked")
    assert clicked.event.properties == {"cart": 1, "step": 0}
    [recovered] = await events_of(store, john.customer_id, "cart_recovered")
    assert recovered.event.properties == {
        "cart": 1, "order": "1001", "via": "link", "step": 0, "amount": "1990.00",
        "currency": "RUB",
    }  # fmt: skip
    async with store.transaction() as tx:
        report = await nudge_report(tx, 0, 30)
    summary = summary_text(report)
    assert "reminded (sent)           1" in summary
    assert "recovered                 1   via the link 1" in summary
    assert "recovered revenue    1,990.00 RUB" in summary
    assert steps_text(report).splitlines()[1].split() == ["1", "reminded", "1", "1", "1", "1"]


async def test_an_order_without_a_click_is_recovered_by_the_reminder(
    shop: Shop, buyers: Buyers, runner: Runner, store: FunnelStore
) -> None:
    john = await buyers()
    await shop.cart(john, "c-1")
    await runner.run(timedelta(hours=2))
    await shop.order(john, "1001", cart_token="c-1")
    await runner.run(timedelta(minutes=1))

    [recovered] = await events_of(store, john.customer_id, "cart_recovered")
    assert recovered.event.properties["via"] == "nudge"


async def test_an_order_after_the_attribution_window_is_not_a_recovery(
    shop: Shop, buyers: Buyers, runner: Runner, store: FunnelStore, clock: ManualClock
) -> None:
    john = await buyers()
    # The shop holds the cart for a week; the last reminder goes out 20 h after the update.
    await shop.cart(john, "c-1", reserved_until=clock.now() + timedelta(days=7))
    await runner.run(timedelta(hours=21))
    await runner.run(timedelta(hours=73))
    await shop.order(john, "1001", cart_token="c-1")
    await runner.run(timedelta(minutes=1))

    assert await events_of(store, john.customer_id, "cart_recovered") == []
    async with store.transaction() as tx:
        row = await tx.abandoned_cart(1)
    assert row is not None and row.recovered_ms is None and row.ended_reason == "ordered"


async def test_an_order_before_the_first_reminder_is_no_recovery(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    john = await buyers()
    await shop.cart(john, "c-1")
    await runner.run(timedelta(minutes=30))
    await shop.order(john, "1001", cart_token="c-1")

    await runner.run(timedelta(days=2))

    assert sandbox.messages_to(john.telegram_id) == []
    assert await events_of(store, john.customer_id, "cart_abandoned") == []
    assert await events_of(store, john.customer_id, "cart_recovered") == []


async def test_an_unknown_link_gets_a_404_page_in_the_visitors_language(client: Client) -> None:
    response = await client.get("/r/not-a-token", headers={"Accept-Language": "en-GB,en;q=0.9"})
    russian = await client.get("/r/" + "x" * 500)

    assert response.status == 404
    assert response.content_type == "text/html"
    assert "This link is not valid." in await response.text()
    assert russian.status == 404
    assert "Ссылка недействительна." in await russian.text()


async def test_a_newer_cart_takes_over_the_running_series(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    john = await buyers()
    await shop.cart(john, "old")
    await runner.run(timedelta(hours=2))  # the first reminder, about the old cart
    await shop.cart(john, "new", amount="490.00", items=[{"name": "Matcha"}])

    await runner.run(timedelta(days=3))

    first, second = sandbox.messages_to(john.telegram_id)
    assert "RUB1,990.00" in first.text
    # The series goes on with its second step, about the newer cart.
    assert second.text.startswith("Your RUB490.00 cart is held until")
    async with store.transaction() as tx:
        old, new = await tx.abandoned_cart(1), await tx.abandoned_cart(2)
    assert old is not None and old.ended_reason == "replaced by a newer cart"
    assert new is not None and new.next_step == 2


async def test_the_cooldown_spares_a_customer_reminders_for_every_cart(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    john = await buyers()
    await shop.cart(john, "first")
    await runner.run(timedelta(hours=2))
    await shop.order(john, "1001", cart_token="first")
    await runner.run(timedelta(days=2))
    await shop.cart(john, "second")
    await runner.run(timedelta(days=2))
    await runner.run(timedelta(days=4))
    await shop.cart(john, "third")  # a week after the last reminder

    await runner.run(timedelta(hours=2))

    texts = [m.text for m in sandbox.messages_to(john.telegram_id)]
    assert len(texts) == 2
    arms = [e.event.properties["arm"]
            for e in await events_of(store, john.customer_id, "cart_abandoned")]  # fmt: skip
    assert arms == ["nudged", "cooldown", "nudged"]


@pytest.mark.parametrize("cart_rules", [{"holdout_percent": 50}], indirect=True)
async def test_held_out_carts_get_nothing_and_show_the_lift(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    people = [await buyers() for _ in range(8)]
    for number, person in enumerate(people, start=1):
        await shop.cart(person, f"c-{number}")
    await runner.run(timedelta(hours=2))
    for number, person in enumerate(people, start=1):
        await shop.order(person, f"10{number}", cart_token=f"c-{number}")
    await runner.run(timedelta(hours=1))

    held = [in_holdout(number, 50) for number in range(1, 9)]
    assert any(held) and not all(held)
    for person, out in zip(people, held, strict=True):
        assert len(sandbox.messages_to(person.telegram_id)) == (0 if out else 1)
        # Only the reminders' recoveries are funnel events; the holdout's are the baseline.
        recovered = await events_of(store, person.customer_id, "cart_recovered")
        assert len(recovered) == (0 if out else 1)
    async with store.transaction() as tx:
        report = await nudge_report(tx, 0, 30)
    controls = sum(held)
    assert lift_text(report).splitlines() == [
        f"reminded   100.0 %  ({8 - controls}/{8 - controls})",
        f"holdout    100.0 %  ({controls}/{controls})",
        "lift      +0.0 pp",
        "(fewer than 30 held-out carts: too few to tell yet)",
    ]


async def test_without_a_public_url_the_button_leads_straight_to_the_checkout(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    bot: Bot, clock: ManualClock, definition: FunnelDefinition,
) -> None:  # fmt: skip
    defaults = ReportDefaults(SHOP_ZONE, 30, 5.0)
    runner.sender = Sender(
        bot, store, clock, Policy(QuietHours.parse("22:00-09:00"), 3, SHOP_ZONE),
        renderer(store, definition, defaults, clock), Pacing(), jitter=lambda: 0.0,
    )  # fmt: skip
    john = await buyers()
    await shop.cart(john, "c-1")

    await runner.run(timedelta(hours=2))

    [reminder] = sandbox.messages_to(john.telegram_id)
    assert reminder.buttons()[0]["url"] == (
        f"{CHECKOUT}c-1?utm_source=telegram&utm_medium=bot&utm_campaign=abandoned_cart"
        "&utm_content=reminder_1"
    )
