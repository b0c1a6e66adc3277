"""A magnet's follow-ups: sent through the outbox at their time, stopped by an order."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.server import BotApiSandbox
from bot.sender import Sender
from funnel.clock import ManualClock
from funnel.events import Event, epoch_ms
from funnel.store.base import FunnelStore
from tests.conftest import UserFactory


async def run_until(
    sender: Sender, clock: ManualClock, store: FunnelStore, later: timedelta
) -> None:
    """Let virtual time pass, sending whatever falls due on the way."""
    end = clock.now() + later
    while True:
        await sender.drain()
        async with store.transaction() as tx:
            due = await tx.next_due_ms()
        if due is None or due > epoch_ms(end):
            break
        clock.advance(timedelta(milliseconds=max(due - epoch_ms(clock.now()), 0)))
    clock.advance(end - clock.now())


async def test_followups_arrive_on_time_with_a_tagged_offer(
    make_user: UserFactory, sandbox: BotApiSandbox, store: FunnelStore, clock: ManualClock,
    sender: Sender,
) -> None:  # fmt: skip
    john = make_user("John", "en")
    await john.start("tea_guide--vk")

    await run_until(sender, clock, store, timedelta(days=5))

    _, first, second = sandbox.messages_to(john.profile.id)
    assert first.text == "Taste what you read about: a trial set of five teas."
    assert first.date - sandbox.messages_to(john.profile.id)[0].date == timedelta(days=1)
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(john.profile.id)
        assert customer is not None
        [token] = await tx.link_tokens_of(customer.id)
    # The offer carries John's own link token: the cart he fills is known as his.
    assert first.buttons() == [{
        "text": "Trial set",
        "url": "https://shop.samovar.example/trial-set?utm_source=telegram&utm_medium=bot"
               f"&utm_campaign=tea_guide&utm_content=followup_1&tg_link={token}",
    }]  # fmt: skip
    assert second.buttons()[0]["url"].endswith(f"&tg_link={token}")
    assert second.buttons()[0]["url"].startswith(
        "https://shop.samovar.example/tea?ref=bot&utm_source=telegram"
    )


async def test_an_order_stops_the_followups(
    make_user: UserFactory, sandbox: BotApiSandbox, store: FunnelStore, clock: ManualClock,
    sender: Sender,
) -> None:  # fmt: skip
    anna = make_user("Анна", "ru")
    await anna.start("tea_guide--vk")
    await run_until(sender, clock, store, timedelta(days=2))
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(anna.profile.id)
        assert customer is not None
        await tx.record(Event(customer.id, "order_created", clock.now(), key="shop:order:1"))

    await run_until(sender, clock, store, timedelta(days=5))

    texts = [m.text for m in sandbox.messages_to(anna.profile.id)]
    assert texts[1:] == ["Попробуйте то, о чём прочитали: пробный набор из пяти чаёв."]
    async with store.transaction() as tx:
        health = await tx.outbox_health(epoch_ms(clock.now()))
    assert health.pending == 0


async def test_a_followup_can_carry_a_coupon(
    make_user: UserFactory, sandbox: BotApiSandbox, store: FunnelStore, clock: ManualClock,
    sender: Sender,
) -> None:  # fmt: skip
    ann = make_user("Ann", "en")
    await ann.start("tea_guide--vk")

    await run_until(sender, clock, store, timedelta(days=7))

    last = sandbox.messages_to(ann.profile.id)[-1]
    assert last.text.startswith("Shipping is on us: code SHIP-")
    assert "<code>SHIP-" in last.markup
