"""Abandoned-cart reminders: the rules from the funnel file and the decisions they make.

Everything here is pure, so the policy can be checked against any interleaving of events:
when a cart counts as abandoned, its real deadline, which step comes next and when, who is
held out as the control group, and why a series stops.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from funnel.commerce import CHECKOUT, COMPLETED, OPEN
from funnel.durations import Duration, duration

Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]

NUDGED, HOLDOUT, COOLDOWN = "nudged", "holdout", "cooldown"
VIA_NUDGE, VIA_LINK = "nudge", "link"

# Why a series ended.
ORDERED = "ordered"
EMPTIED_CART = "emptied"
DEADLINE = "deadline passed"
OPTED_OUT = "opted out"
BLOCKED = "blocked the bot"
REPLACED = "replaced by a newer cart"
IN_COOLDOWN = "cooldown"

# What a reminder's text can name; {code} too when the step gives a coupon.
NUDGE_PLACEHOLDERS = frozenset({"amount", "items", "deadline"})

# Funnel events.
CART_ABANDONED = "cart_abandoned"
NUDGE_CLICKED = "nudge_clicked"
CART_RECOVERED = "cart_recovered"


class CartNudge(BaseModel):
    """One reminder: its time after the cart's last update, its text and button, a coupon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    text: dict[Language, str]
    button: dict[Language, str] | None = None
    # A coupon magnet's id: its code goes out with this step as {code}, expiring at the deadline.
    coupon: str | None = None

    @property
    def delay(self) -> timedelta:
        return duration(self.after)


class CartRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A linked cart with no update for this long is abandoned.
    abandoned_after: Duration = "1h"
    # How long a cart is held for the customer when the shop names no reservation deadline.
    hold: Duration = "24h"
    # After a series, the same customer's next abandoned cart gets none for this long.
    cooldown: Duration = "7d"
    # An order this long after the last reminder still counts as recovered by it.
    attribution: Duration = "72h"
    # This share of abandoned carts gets no reminders: the control group that shows the lift.
    holdout_percent: Annotated[int, Field(ge=0, le=90)] = 0
    nudges: list[CartNudge] = []

    @property
    def idle(self) -> timedelta:
        return duration(self.abandoned_after)


@dataclass(frozen=True, slots=True)
class Abandoned:
    """An abandoned cart as kept: its arm, its deadline, its series and how it ended."""

    cart_id: int
    customer_id: int
    abandoned_ms: int
    deadline_ms: int
    arm: str
    active: bool
    next_step: int = 0
    ended_reason: str | None = None
    recovered_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Touches:
    """The reminders a cart got (or, in the holdout, would have got): first and last times, and
    the step of the last."""

    first_ms: int | None
    last_ms: int | None
    last_step: int | None


def abandoned_at(updated_at: datetime, rules: CartRules) -> datetime:
    return updated_at + rules.idle


def deadline(reserved_until: datetime | None, abandoned: datetime, rules: CartRules) -> datetime:
    """The shop's own reservation deadline when it sent one; otherwise the hold period."""
    return reserved_until or abandoned + duration(rules.hold)


def in_holdout(cart_id: int, percent: int) -> bool:
    """A stable draw per cart, so a restart or a re-check never moves a cart between groups."""
    digest = hashlib.blake2b(f"holdout:{cart_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100 < percent


@dataclass(frozen=True, slots=True)
class NextStep:
    step: int
    due: datetime


def next_step(
    rules: CartRules, step: int, updated_at: datetime, deadline_at: datetime
) -> NextStep | None:
    """The step to send next and when, counted from the cart's last update; None when no step
    is left that falls before the deadline."""
    if step >= len(rules.nudges):
        return None
    due = max(updated_at + rules.nudges[step].delay, abandoned_at(updated_at, rules))
    return NextStep(step, due) if due < deadline_at else None


@dataclass(frozen=True, slots=True)
class CartState:
    """What the exit conditions look at, as it is at the moment of asking."""

    status: str
    ordered_since_start: bool
    deadline_ms: int
    opted_out: bool
    blocked: bool


def stop_reason(state: CartState, now_ms: int) -> str | None:
    """Why the series must stop now, or None while it may go on."""
    if state.status == COMPLETED or state.ordered_since_start:
        return ORDERED
    if state.status not in (OPEN, CHECKOUT):
        return EMPTIED_CART
    if now_ms >= state.deadline_ms:
        return DEADLINE
    if state.blocked:
        return BLOCKED
    if state.opted_out:
        return OPTED_OUT
    return None


def attributed(
    order_ms: int, first_touch_ms: int | None, last_touch_ms: int | None, window: timedelta
) -> bool:
    """An order counts as recovered when it comes after a reminder (sent, or withheld for the
    holdout) and within the window after the last one."""
    if first_touch_ms is None or last_touch_ms is None:
        return False
    return first_touch_ms <= order_ms <= last_touch_ms + int(window.total_seconds() * 1000)
