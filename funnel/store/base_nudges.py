"""What abandoned-cart reminders need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from funnel.nudges import Abandoned, Touches


@dataclass(frozen=True, slots=True)
class NudgeLink:
    """A tracked reminder link: which reminder it was, for which cart and customer."""

    nudge_id: int
    cart_id: int
    customer_id: int
    step: int


@dataclass(frozen=True, slots=True)
class ArmTotals:
    """One arm's carts in a period: abandoned, reached by a reminder, recovered."""

    arm: str
    abandoned: int
    exposed: int
    sent: int
    clicked: int
    recovered: int
    recovered_via_link: int


@dataclass(frozen=True, slots=True)
class StepTotals:
    arm: str
    step: int
    reached: int
    sent: int
    clicked: int
    recovered: int


@dataclass(frozen=True, slots=True)
class Recovery:
    amount: str | None
    currency: str | None


class NudgeTransaction(Protocol):
    async def abandoned_cart(self, cart_id: int) -> Abandoned | None: ...

    async def save_abandoned(self, row: Abandoned) -> None:
        """Insert the row, or replace the one kept for its cart."""
        ...

    async def active_abandoned_of(self, customer_id: int) -> list[Abandoned]: ...

    async def last_touch_of_customer(self, customer_id: int) -> int | None:
        """When the customer's latest reminder came due (or was withheld), over all carts."""
        ...

    async def add_nudge(
        self, cart_id: int, step: int, due_ms: int, outbox_id: int | None, token: str | None
    ) -> None: ...

    async def touches(self, cart_id: int) -> Touches:
        """A cart's reminders: sent ones count when they went out, others when they came due."""
        ...

    async def nudge_link(self, token: str) -> NudgeLink | None: ...

    async def count_click(self, nudge_id: int, now_ms: int) -> bool:
        """Count a click; True when it is the reminder's first."""
        ...

    async def clicked_before(self, cart_id: int, moment_ms: int) -> bool: ...

    async def mark_recovered(
        self, cart_id: int, order_id: int, moment_ms: int, via: str, step: int | None,
        recovery: Recovery,
    ) -> None: ...  # fmt: skip

    async def ordered_since(self, customer_id: int, since_ms: int) -> bool:
        """Whether the customer created or paid an order at or after the moment."""
        ...

    async def arm_totals(self, since_ms: int) -> list[ArmTotals]: ...

    async def step_totals(self, since_ms: int) -> list[StepTotals]: ...

    async def recovered_revenue(self, since_ms: int) -> list[Recovery]:
        """The recovered orders' amounts, nudged carts only, one per recovered cart."""
        ...
