"""The reminder series: on time, with the real deadline, stopped by what ends a cart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.sandbox.server import BotApiSandbox
from funnel.clock import ManualClock
from funnel.events import epoch_ms
from funnel.store.base import FunnelStore
from tests.shop.conftest import PUBLIC_URL, Buyer, Runner, Shop, events_of

Buyers = Callable[..., Awaitable[Buyer]]


async def test_the_series_fires_on_time_naming_the_real_deadline(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    john = await buyers("en", "John")
    start = clock.now()  # 09:00 UTC, 12:00 in Moscow, the shop's zone
    await shop.cart(john, "c-1")

    await runner.run(timedelta(hours=48))

    first, second = sandbox.messages_to(john.telegram_id)
    assert first.date == start + timedelta(hours=1)
    assert first.text == (
        "You left Earl Grey, 100 g, Sencha Premium from Shizuoka, first flu… (RUB1,990.00) in"
        " your cart. It's held for you until 2 September, 13:00 (Moscow)."
    )
    [[button]] = first.reply_markup["inline_keyboard"] if first.reply_markup else [[]]
    assert button["text"] == "Back to my cart"
    assert button["url"].startswith(f"{PUBLIC_URL}/r/")
    # 20 h after the update is 08:00 in Moscow: quiet hours hold it until 09:00.
    assert second.date == start + timedelta(hours=21)
    async with store.transaction() as tx:
        row = await tx.abandoned_cart(1)
        assert row is not None
        [code] = [w.strip(".;") for w in second.text.split() if w.startswith("CART-")]
        coupon = await tx.coupon(code)
    assert row.deadline_ms == epoch_ms(start + timedelta(hours=25))
    assert second.text == (
        "Your RUB1,990.00 cart is held until 2 September, 13:00 (Moscow). Code "
        f"{code} takes 5% off until then; after that the cart and the discount are gone."
    )
    assert "<code>" in second.markup
    # The discount truly ends when the message says.
    assert coupon is not None and coupon.expires_ms == row.deadline_ms
    abandoned = await events_of(store, john.customer_id, "cart_abandoned")
    assert [e.event.occurred_at for e in abandoned] == [start + timedelta(hours=1)]
    assert abandoned[0].event.properties["arm"] == "nudged"


async def test_the_deadline_is_shown_in_the_customers_zone_and_language(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    anna = await buyers("ru", "Анна")
    async with store.transaction() as tx:
        await tx.set_time_zone(anna.customer_id, "Asia/Yekaterinburg")
    reserved = clock.now() + timedelta(hours=6)  # 15:00 UTC, 20:00 in Yekaterinburg
    await shop.cart(anna, "c-2", reserved_until=reserved)

    await runner.run(timedelta(hours=48))

    [only] = sandbox.messages_to(anna.telegram_id)
    assert only.text == (
        "Вы оставили в корзине Earl Grey, 100 g, Sencha Premium from Shizuoka, first flu… на"
        " 1\xa0990,00\xa0₽. Всё отложено для вас до 1 сентября, 20:00."
    )
    # The 20 h reminder would come after the shop's reservation ends: it never goes.
    async with store.transaction() as tx:
        row = await tx.abandoned_cart(1)
    assert row is not None and row.deadline_ms == epoch_ms(reserved)
    assert not row.active and row.ended_reason == "deadline passed"


async def test_a_later_update_moves_the_series(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, clock: ManualClock
) -> None:
    john = await buyers()
    start = clock.now()
    await shop.cart(john, "c-3")
    await runner.run(timedelta(minutes=50))
    await shop.cart(john, "c-3", amount="2590.00")

    await runner.run(timedelta(hours=2))

    [first] = sandbox.messages_to(john.telegram_id)
    assert first.date == start + timedelta(minutes=110)
    assert "(RUB2,590.00)" in first.text


async def test_an_order_between_queueing_and_sending_stops_the_reminder(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    john = await buyers()
    await shop.cart(john, "c-4")
    clock.advance(timedelta(hours=1))
    assert await runner.scheduler.run_all_due()  # abandoned, its first reminder queued
    async with store.transaction() as tx:
        queued = await tx.outbox_row(1)
    assert queued["status"] == "pending"

    await shop.order(john, "1001", cart_token="c-4")
    await runner.sender.drain()  # before the scheduler hears of the order

    assert sandbox.messages_to(john.telegram_id) == []
    async with store.transaction() as tx:
        row = await tx.outbox_row(1)
    assert row["status"] == "cancelled"
    assert row["reason"] == "the cart was ordered or emptied"
    await runner.run(timedelta(days=3))
    assert sandbox.messages_to(john.telegram_id) == []


async def test_any_order_by_the_customer_ends_the_series(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    john = await buyers()
    await shop.cart(john, "c-5")
    await runner.run(timedelta(hours=2))
    await shop.order(john, "1002", cart_token=None)  # placed some other way

    await runner.run(timedelta(days=2))

    assert len(sandbox.messages_to(john.telegram_id)) == 1
    async with store.transaction() as tx:
        row = await tx.abandoned_cart(1)
    assert row is not None and row.ended_reason == "ordered"


async def test_an_emptied_cart_ends_the_series(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    john = await buyers()
    await shop.cart(john, "c-6")
    await runner.run(timedelta(hours=2))
    await shop.empty(john, "c-6")

    await runner.run(timedelta(days=2))

    assert len(sandbox.messages_to(john.telegram_id)) == 1
    async with store.transaction() as tx:
        row = await tx.abandoned_cart(1)
    assert row is not None and not row.active


async def test_opted_out_and_blocked_customers_get_no_reminders(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    quiet, gone = await buyers(), await buyers()
    await shop.cart(quiet, "c-7")
    await shop.cart(gone, "c-8")
    async with store.transaction() as tx:
        await tx.opt_out(quiet.customer_id, epoch_ms(clock.now()))
    sandbox.blocked_by.add(gone.telegram_id)

    await runner.run(timedelta(days=2))

    assert sandbox.messages_to(quiet.telegram_id) == []
    assert sandbox.messages_to(gone.telegram_id) == []
    async with store.transaction() as tx:
        stopped = await tx.abandoned_cart(1)
        blocked = await tx.abandoned_cart(2)
    assert stopped is not None and stopped.ended_reason == "opted out"
    assert blocked is not None and blocked.ended_reason == "blocked the bot"


async def test_quiet_hours_never_push_a_reminder_past_its_deadline(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    john = await buyers()
    clock.advance(timedelta(hours=10, minutes=30))  # 19:30 UTC, 22:30 in Moscow
    # The shop holds the cart until midnight in Moscow; the reminder falls in quiet hours.
    await shop.cart(john, "c-9", reserved_until=clock.now() + timedelta(hours=1, minutes=30))

    await runner.run(timedelta(days=2))

    assert sandbox.messages_to(john.telegram_id) == []
    async with store.transaction() as tx:
        row = await tx.outbox_row(1)
    assert row["status"] == "expired"
    assert row["reason"] == "quiet hours last past its deadline"


async def test_a_cart_that_is_not_linked_gets_nothing(
    shop: Shop, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    await shop.send({"type": "cart_updated", "cart": {"token": "anon", "amount": "10.00",
                     "currency": "RUB", "items": [{"name": "Tea"}]}})  # fmt: skip

    await runner.run(timedelta(days=2))

    assert sandbox.sent == []
    async with store.transaction() as tx:
        assert await tx.abandoned_cart(1) is None
