"""The scheduler's jobs for abandoned carts: noticing one, each reminder, an order arriving."""

from __future__ import annotations

from collections.abc import Callable

from bot.scheduler import JobHandler
from funnel.abandonment import CART_IDLE_JOB, CART_NUDGE_JOB, ORDER_PLACED_JOB, CartReminders
from funnel.clock import Clock
from funnel.store.base import FunnelStore, Job


def cart_jobs(
    store: FunnelStore, clock: Clock, reminders: CartReminders, wake_sender: Callable[[], None]
) -> dict[str, JobHandler]:
    async def cart_idle(job: Job) -> None:
        async with store.transaction() as tx:
            enqueued = await reminders.cart_idle(tx, int(job.payload["cart_id"]), clock.now())
        if enqueued:
            wake_sender()

    async def cart_nudge(job: Job) -> None:
        async with store.transaction() as tx:
            enqueued = await reminders.nudge_due(tx, int(job.payload["cart_id"]), clock.now())
        if enqueued:
            wake_sender()

    async def order_placed(job: Job) -> None:
        async with store.transaction() as tx:
            await reminders.order_placed(tx, int(job.payload["order_id"]), clock.now())

    return {CART_IDLE_JOB: cart_idle, CART_NUDGE_JOB: cart_nudge, ORDER_PLACED_JOB: order_placed}
