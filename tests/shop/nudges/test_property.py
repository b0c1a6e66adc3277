"""Whatever happens, in whatever order: no reminder after an order, after the deadline, after
the cart was emptied, or to a customer who opted out or blocked the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.server import BotApiSandbox
from funnel.clock import ManualClock
from funnel.events import epoch_ms
from funnel.store.base import FunnelStore
from tests.shop.conftest import ITEMS, Buyer, Runner, Shop

Buyers = Callable[..., Awaitable[Buyer]]
Step = tuple[int, str, int]

# Each step: minutes of virtual time passing (with whatever falls due), then something happens.
steps = st.lists(
    st.tuples(
        st.integers(0, 30 * 60),
        st.one_of(
            st.tuples(st.just("update"), st.integers(1, len(ITEMS))),
            st.tuples(st.just("empty"), st.just(0)),
            # 1: an order for this cart; 0: another order by the same customer
            st.tuples(st.just("order"), st.integers(0, 1)),
            st.tuples(st.just("opt_out"), st.just(0)),
            st.tuples(st.just("block"), st.just(0)),
        ),
    ).map(lambda step: (step[0], *step[1])),
    max_size=6,
)
carts = count(1)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=steps, reserved_hours=st.none() | st.integers(1, 72))
async def test_no_reminder_ever_goes_when_it_must_not(
    shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox, store: FunnelStore,
    clock: ManualClock, story: list[Step], reserved_hours: int | None,
) -> None:  # fmt: skip
    buyer = await buyers()
    token = f"p-{next(carts)}"
    reserved = None if reserved_hours is None else clock.now() + timedelta(hours=reserved_hours)
    await shop.cart(buyer, token, reserved_until=reserved)
    sent_when_stopped: int | None = None
    for minutes, action, value in story:
        await runner.run(timedelta(minutes=minutes))
        if action == "update":
            await shop.cart(buyer, token, items=ITEMS[:value], reserved_until=reserved)
        elif action == "empty":
            await shop.empty(buyer, token)
        elif action == "order":
            await shop.order(buyer, f"{token}-o{len(story)}", cart_token=token if value else None)
        elif action == "opt_out":
            async with store.transaction() as tx:
                await tx.opt_out(buyer.customer_id, epoch_ms(clock.now()))
        elif action == "block":
            sandbox.blocked_by.add(buyer.telegram_id)
        if action != "update" and sent_when_stopped is None:
            sent_when_stopped = len(sandbox.messages_to(buyer.telegram_id))
        await runner.settle()
    await runner.run(timedelta(days=4))

    received = sandbox.messages_to(buyer.telegram_id)
    if sent_when_stopped is not None:
        assert len(received) == sent_when_stopped
    async with store.transaction() as tx:
        cart = await tx.find_cart("generic", token)
        assert cart is not None
        row = await tx.abandoned_cart(cart.id)
    if received:
        assert row is not None
        assert all(epoch_ms(message.date) <= row.deadline_ms for message in received)
        assert len(received) <= 2  # the series has two steps
    if row is not None:
        assert not row.active  # every series ends: by an exit, or at its deadline
