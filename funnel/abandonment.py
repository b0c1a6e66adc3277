"""Abandoned carts, step by step: noticing them, sending each reminder, stopping, attributing.

Each step is a scheduled job that reads the cart as it is when the job runs, so a later update,
an order or an opt-out is always seen; the outbox checks the cart once more when the reminder
is about to go. Every function runs inside the caller's unit of work.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from funnel.commerce import CHECKOUT, OPEN, CartFacts, OrderFacts, Stored
from funnel.durations import duration
from funnel.events import Event, epoch_ms, from_epoch_ms
from funnel.magnets import with_utm
from funnel.nudges import (
    CART_ABANDONED,
    CART_RECOVERED,
    COOLDOWN,
    HOLDOUT,
    IN_COOLDOWN,
    NUDGE_CLICKED,
    NUDGED,
    ORDERED,
    REPLACED,
    VIA_LINK,
    VIA_NUDGE,
    Abandoned,
    CartRules,
    CartState,
    NextStep,
    abandoned_at,
    attributed,
    deadline,
    in_holdout,
    next_step,
    stop_reason,
)
from funnel.outbox import MARKETING, Intent
from funnel.store.base import FunnelTransaction
from funnel.store.base_nudges import Recovery

CART_IDLE_JOB = "cart_idle"
CART_NUDGE_JOB = "cart_nudge"
ORDER_PLACED_JOB = "order_placed"
NUDGE_TEMPLATE = "cart.nudge"
CART_CAMPAIGN = "abandoned_cart"


def tagged_checkout(url: str, step: int) -> str:
    """The checkout URL a reminder leads to, tagged for the shop's analytics."""
    return with_utm(url, CART_CAMPAIGN, f"reminder_{step + 1}")


def cancel_key(cart_id: int) -> str:
    return f"nudges:{cart_id}"


class CartReminders:
    """The series for each abandoned cart, as the funnel file's [carts] section defines it."""

    def __init__(self, rules: CartRules) -> None:
        self._rules = rules

    async def cart_idle(self, tx: FunnelTransaction, cart_id: int, now: datetime) -> bool:
        """Has the cart been idle long enough to count as abandoned? Then start its series,
        or (for a cart already abandoned and since updated) move the series along. Returns
        whether a reminder was enqueued (a first step due at once goes in the same unit)."""
        cart = await tx.cart_by_id(cart_id)
        if cart is None or cart.customer_id is None or cart.facts.status not in (OPEN, CHECKOUT):
            return False
        since = abandoned_at(cart.facts.updated_at, self._rules)
        if epoch_ms(since) > epoch_ms(now):
            await tx.schedule(
                CART_IDLE_JOB, f"cart:{cart_id}:idle", epoch_ms(since), {"cart_id": cart_id}
            )
            return False
        if await tx.ordered_since(cart.customer_id, epoch_ms(cart.facts.created_at)):
            return False
        row = await tx.abandoned_cart(cart_id)
        if row is None:
            row = await self._abandon(tx, cart, cart.customer_id, since, now)
        elif row.active and cart.facts.reserved_until is not None:
            # The shop moved its reservation: the deadline in the next reminder follows it.
            row = replace(row, deadline_ms=epoch_ms(cart.facts.reserved_until))
            await tx.save_abandoned(row)
        return row.active and await self.nudge_due(tx, cart_id, now)

    async def _abandon(
        self, tx: FunnelTransaction, cart: Stored[CartFacts], customer_id: int, since: datetime,
        now: datetime,
    ) -> Abandoned:  # fmt: skip
        """Record the abandonment and choose its arm: a newer cart takes over the customer's
        running series; after a series, the cooldown; otherwise nudged or held out."""
        rules = self._rules
        row = Abandoned(
            cart_id=cart.id, customer_id=customer_id, abandoned_ms=epoch_ms(since),
            deadline_ms=epoch_ms(deadline(cart.facts.reserved_until, since, rules)),
            arm=HOLDOUT if in_holdout(cart.id, rules.holdout_percent) else NUDGED, active=True,
        )  # fmt: skip
        running = await tx.active_abandoned_of(customer_id)
        last_touch = await tx.last_touch_of_customer(customer_id)
        if running:
            older = running[-1]
            row = replace(row, arm=older.arm, next_step=older.next_step)
            for other in running:
                await self._end(tx, other, REPLACED, epoch_ms(now))
        elif last_touch is not None and epoch_ms(since) < last_touch + _ms(rules.cooldown):
            row = replace(row, arm=COOLDOWN, active=False, ended_reason=IN_COOLDOWN)
        await tx.save_abandoned(row)
        properties: dict[str, Any] = {"cart": cart.id, "arm": row.arm}
        if cart.facts.amount is not None:
            properties |= {"amount": cart.facts.amount, "currency": cart.facts.currency}
        await tx.record(
            Event(customer_id, CART_ABANDONED, since, key=f"cart:{cart.id}:abandoned",
                  platform=cart.facts.platform, properties=properties)
        )  # fmt: skip
        return row

    async def nudge_due(self, tx: FunnelTransaction, cart_id: int, now: datetime) -> bool:
        """The series' next step, if its time has come and nothing stops it. Returns whether
        a reminder was enqueued (the holdout's steps are recorded, not sent)."""
        row = await tx.abandoned_cart(cart_id)
        cart = await tx.cart_by_id(cart_id)
        if row is None or not row.active or cart is None:
            return False
        customer = await tx.customer_by_id(row.customer_id)
        if customer is None:
            return False
        now_ms = epoch_ms(now)
        state = CartState(
            status=cart.facts.status,
            ordered_since_start=await tx.ordered_since(
                row.customer_id, epoch_ms(cart.facts.created_at)
            ),
            deadline_ms=row.deadline_ms,
            opted_out=customer.opted_out,
            blocked=customer.blocked,
        )
        reason = stop_reason(state, now_ms)
        if reason is not None:
            await self._end(tx, row, reason, now_ms)
            return False
        step = self._latest_due(row, cart, now)
        if step is None or epoch_ms(step.due) > now_ms:
            await self._plan(tx, row, cart, now_ms)
            return False
        token = None
        outbox_id = None
        if row.arm == NUDGED:
            token = secrets.token_urlsafe(16)
            outbox_id = await tx.enqueue(
                Intent(
                    customer_id=row.customer_id, template=NUDGE_TEMPLATE, kind=MARKETING,
                    not_before=now, expires_at=from_epoch_ms(row.deadline_ms),
                    variables={"cart_id": cart_id, "step": step.step, "token": token},
                    dedupe_key=f"nudge:{cart_id}:{step.step}", cancel_key=cancel_key(cart_id),
                    cart_id=cart_id,
                ),
                now_ms,
            )  # fmt: skip
        await tx.add_nudge(cart_id, step.step, now_ms, outbox_id, token)
        row = replace(row, next_step=step.step + 1)
        await tx.save_abandoned(row)
        await self._plan(tx, row, cart, now_ms)
        return outbox_id is not None

    def _latest_due(
        self, row: Abandoned, cart: Stored[CartFacts], now: datetime
    ) -> NextStep | None:
        """The next step; when several are overdue (the bot was down, the cart linked late),
        only the latest of them, so that the customer never gets a burst."""
        deadline_at = from_epoch_ms(row.deadline_ms)
        step = next_step(self._rules, row.next_step, cart.facts.updated_at, deadline_at)
        while step is not None and step.due <= now:
            later = next_step(self._rules, step.step + 1, cart.facts.updated_at, deadline_at)
            if later is None or later.due > now:
                break
            step = later
        return step

    async def _plan(
        self, tx: FunnelTransaction, row: Abandoned, cart: Stored[CartFacts], now_ms: int
    ) -> None:
        """Wake the series at its next step; with no step left, at the deadline to close it."""
        deadline_at = from_epoch_ms(row.deadline_ms)
        step = next_step(self._rules, row.next_step, cart.facts.updated_at, deadline_at)
        due = row.deadline_ms if step is None else epoch_ms(step.due)
        payload = {"cart_id": row.cart_id}
        await tx.schedule(CART_NUDGE_JOB, f"cart:{row.cart_id}:nudge", max(due, now_ms), payload)

    async def _end(self, tx: FunnelTransaction, row: Abandoned, reason: str, now_ms: int) -> None:
        await tx.save_abandoned(replace(row, active=False, ended_reason=reason))
        await tx.cancel(cancel_key(row.cart_id), f"the cart's reminders ended: {reason}", now_ms)

    async def order_placed(self, tx: FunnelTransaction, order_id: int, now: datetime) -> None:
        """An order ends the customer's running series, and recovers the cart it was placed for
        (or, when it names no cart, the series it ended) if it came within the window."""
        order = await tx.order_by_id(order_id)
        if order is None or order.customer_id is None:
            return
        order_ms = epoch_ms(order.facts.created_at)
        own = await self._cart_of(tx, order.facts)
        candidates = {row.cart_id: row for row in await tx.active_abandoned_of(order.customer_id)}
        if own is not None:
            row = await tx.abandoned_cart(own.id)
            if row is not None:
                candidates[row.cart_id] = row
        names_cart = bool(order.facts.cart_token or order.facts.checkout_token)
        for row in candidates.values():
            if row.active:
                await self._end(tx, row, ORDERED, epoch_ms(now))
            if (own is not None and row.cart_id == own.id) or not names_cart:
                await self._recover(tx, row, order, order_ms)

    async def _recover(
        self, tx: FunnelTransaction, row: Abandoned, order: Stored[OrderFacts], order_ms: int
    ) -> None:
        if row.recovered_ms is not None or row.arm == COOLDOWN:
            return
        touches = await tx.touches(row.cart_id)
        window = duration(self._rules.attribution)
        if not attributed(order_ms, touches.first_ms, touches.last_ms, window):
            return
        via = VIA_LINK if await tx.clicked_before(row.cart_id, order_ms) else VIA_NUDGE
        recovery = Recovery(order.facts.amount, order.facts.currency)
        await tx.mark_recovered(row.cart_id, order.id, order_ms, via, touches.last_step, recovery)
        if row.arm != NUDGED:
            return  # the holdout's recoveries are the baseline, not the reminders' doing
        properties: dict[str, Any] = {
            "cart": row.cart_id, "order": order.facts.number or order.facts.platform_id,
            "via": via, "step": touches.last_step,
        }  # fmt: skip
        if order.facts.amount is not None:
            properties |= {"amount": order.facts.amount, "currency": order.facts.currency}
        await tx.record(
            Event(row.customer_id, CART_RECOVERED, order.facts.created_at,
                  key=f"cart:{row.cart_id}:recovered", platform=order.facts.platform,
                  properties=properties)
        )  # fmt: skip

    @staticmethod
    async def _cart_of(tx: FunnelTransaction, order: OrderFacts) -> Stored[CartFacts] | None:
        for token in (order.cart_token, order.checkout_token):
            if token:
                cart = await tx.find_cart(order.platform, token)
                cart = cart or await tx.find_cart_by_checkout(order.platform, token)
                if cart is not None:
                    return cart
        return None


async def click(tx: FunnelTransaction, token: str, now: datetime) -> str | None:
    """A tracked reminder link was opened: count it (its first click is a funnel event) and
    return where it leads, the cart's checkout as the shop last described it."""
    link = await tx.nudge_link(token)
    if link is None:
        return None
    cart = await tx.cart_by_id(link.cart_id)
    if cart is None or not cart.facts.checkout_url:
        return None
    if await tx.count_click(link.nudge_id, epoch_ms(now)):
        await tx.record(
            Event(link.customer_id, NUDGE_CLICKED, now, key=f"nudge:{link.nudge_id}:clicked",
                  platform="telegram", properties={"cart": link.cart_id, "step": link.step})
        )  # fmt: skip
    return tagged_checkout(cart.facts.checkout_url, link.step)


def _ms(text: str) -> int:
    return int(duration(text).total_seconds() * 1000)
