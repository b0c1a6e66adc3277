"""Abandoned carts, their reminders and tracked links, in SQLite.

A mixin of the SQLite unit of work. What a reminder decides lives in funnel.nudges and
funnel.abandonment; these statements only read and write it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from funnel.nudges import HOLDOUT, Abandoned, Touches
from funnel.store.base_nudges import ArmTotals, NudgeLink, Recovery, StepTotals

_ABANDONED_COLUMNS = (
    "cart_id, customer_id, abandoned_ms, deadline_ms, arm, active, next_step, ended_reason,"
    " recovered_ms"
)
# When a reminder touched the customer: when it went out, or (withheld, expired, cancelled)
# when it came due.
_TOUCH = "coalesce(CASE WHEN o.status = 'sent' THEN o.finished_ms END, n.due_ms)"
_SENT = "CASE WHEN o.status = 'sent' THEN 1 ELSE 0 END"
_CLICKED = "CASE WHEN n.clicks > 0 THEN 1 ELSE 0 END"


def _abandoned(row: Sequence[Any]) -> Abandoned:
    return Abandoned(
        cart_id=int(row[0]), customer_id=int(row[1]), abandoned_ms=int(row[2]),
        deadline_ms=int(row[3]), arm=str(row[4]), active=bool(row[5]), next_step=int(row[6]),
        ended_reason=row[7], recovered_ms=row[8],
    )  # fmt: skip


class SqliteNudgeStatements:
    _connection: aiosqlite.Connection

    async def abandoned_cart(self, cart_id: int) -> Abandoned | None:
        rows = await self._connection.execute_fetchall(
            f"SELECT {_ABANDONED_COLUMNS} FROM abandoned_carts WHERE cart_id = ?", (cart_id,)
        )
        row = next(iter(rows), None)
        return None if row is None else _abandoned(row)

    async def save_abandoned(self, row: Abandoned) -> None:
        await self._connection.execute(
            "INSERT INTO abandoned_carts (cart_id, customer_id, abandoned_ms, deadline_ms, arm,"
            " active, next_step, ended_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (cart_id) DO UPDATE SET deadline_ms = excluded.deadline_ms,"
            " arm = excluded.arm, active = excluded.active, next_step = excluded.next_step,"
            " ended_reason = excluded.ended_reason",
            (row.cart_id, row.customer_id, row.abandoned_ms, row.deadline_ms, row.arm,
             int(row.active), row.next_step, row.ended_reason),
        )  # fmt: skip

    async def active_abandoned_of(self, customer_id: int) -> list[Abandoned]:
        rows = await self._connection.execute_fetchall(
            f"SELECT {_ABANDONED_COLUMNS} FROM abandoned_carts"
            " WHERE customer_id = ? AND active = 1 ORDER BY cart_id",
            (customer_id,),
        )
        return [_abandoned(row) for row in rows]

    async def last_touch_of_customer(self, customer_id: int) -> int | None:
        rows = await self._connection.execute_fetchall(
            f"SELECT max({_TOUCH}) FROM nudges n"
            " JOIN abandoned_carts a ON a.cart_id = n.cart_id"
            " LEFT JOIN outbox o ON o.id = n.outbox_id WHERE a.customer_id = ?",
            (customer_id,),
        )
        value = next(iter(rows))[0]
        return None if value is None else int(value)

    async def add_nudge(
        self, cart_id: int, step: int, due_ms: int, outbox_id: int | None, token: str | None
    ) -> None:
        await self._connection.execute(
            "INSERT INTO nudges (cart_id, step, due_ms, outbox_id, token) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (cart_id, step) DO NOTHING",
            (cart_id, step, due_ms, outbox_id, token),
        )

    async def touches(self, cart_id: int) -> Touches:
        rows = await self._connection.execute_fetchall(
            f"SELECT n.step, {_TOUCH} AS at FROM nudges n LEFT JOIN outbox o ON o.id = n.outbox_id"
            " WHERE n.cart_id = ? AND (n.outbox_id IS NULL OR o.status = 'sent')"
            " ORDER BY at, n.step",
            (cart_id,),
        )
        touched = [(int(step), int(at)) for step, at in rows]
        if not touched:
            return Touches(None, None, None)
        return Touches(touched[0][1], touched[-1][1], touched[-1][0])

    async def nudge_link(self, token: str) -> NudgeLink | None:
        rows = await self._connection.execute_fetchall(
            "SELECT n.id, n.cart_id, a.customer_id, n.step FROM nudges n"
            " JOIN abandoned_carts a ON a.cart_id = n.cart_id WHERE n.token = ?",
            (token,),
        )
        row = next(iter(rows), None)
        return None if row is None else NudgeLink(*(int(value) for value in row))

    async def count_click(self, nudge_id: int, now_ms: int) -> bool:
        rows = await self._connection.execute_fetchall(
            "UPDATE nudges SET clicks = clicks + 1,"
            " first_click_ms = coalesce(first_click_ms, ?) WHERE id = ? RETURNING clicks",
            (now_ms, nudge_id),
        )
        return int(next(iter(rows))[0]) == 1

    async def clicked_before(self, cart_id: int, moment_ms: int) -> bool:
        rows = await self._connection.execute_fetchall(
            "SELECT 1 FROM nudges WHERE cart_id = ? AND first_click_ms <= ? LIMIT 1",
            (cart_id, moment_ms),
        )
        return bool(list(rows))

    async def mark_recovered(
        self, cart_id: int, order_id: int, moment_ms: int, via: str, step: int | None,
        recovery: Recovery,
    ) -> None:  # fmt: skip
        await self._connection.execute(
            "UPDATE abandoned_carts SET recovered_ms = ?, recovered_order_id = ?,"
            " recovered_via = ?, recovered_step = ?, recovered_amount = ?,"
            " recovered_currency = ? WHERE cart_id = ? AND recovered_ms IS NULL",
            (moment_ms, order_id, via, step, recovery.amount, recovery.currency, cart_id),
        )

    async def ordered_since(self, customer_id: int, since_ms: int) -> bool:
        rows = await self._connection.execute_fetchall(
            "SELECT 1 FROM events WHERE customer_id = ? AND type IN ('order_created',"
            " 'order_paid') AND occurred_ms >= ? LIMIT 1",
            (customer_id, since_ms),
        )
        return bool(list(rows))

    async def arm_totals(self, since_ms: int) -> list[ArmTotals]:
        rows = await self._connection.execute_fetchall(
            "SELECT a.arm, count(*), count(t.cart_id),"
            " sum(CASE WHEN t.sent > 0 THEN 1 ELSE 0 END),"
            " sum(CASE WHEN t.clicked > 0 THEN 1 ELSE 0 END), count(a.recovered_ms),"
            " sum(CASE WHEN a.recovered_via = 'link' THEN 1 ELSE 0 END)"
            " FROM abandoned_carts a LEFT JOIN (SELECT n.cart_id,"
            f" sum({_SENT}) AS sent, sum({_CLICKED}) AS clicked"
            " FROM nudges n LEFT JOIN outbox o ON o.id = n.outbox_id"
            " WHERE n.cart_id IN (SELECT cart_id FROM abandoned_carts WHERE abandoned_ms >= ?)"
            " GROUP BY n.cart_id) t ON t.cart_id = a.cart_id"
            " WHERE a.abandoned_ms >= ? GROUP BY a.arm ORDER BY a.arm",
            (since_ms, since_ms),
        )
        return [ArmTotals(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows]

    async def step_totals(self, since_ms: int) -> list[StepTotals]:
        rows = await self._connection.execute_fetchall(
            f"SELECT a.arm, n.step, count(*), sum({_SENT}), sum({_CLICKED}),"
            " sum(CASE WHEN a.recovered_step = n.step THEN 1 ELSE 0 END)"
            " FROM nudges n JOIN abandoned_carts a ON a.cart_id = n.cart_id"
            " LEFT JOIN outbox o ON o.id = n.outbox_id"
            " WHERE a.abandoned_ms >= ?"
            " GROUP BY a.arm, n.step ORDER BY a.arm, n.step",
            (since_ms,),
        )
        return [StepTotals(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows]

    async def recovered_revenue(self, since_ms: int) -> list[Recovery]:
        rows = await self._connection.execute_fetchall(
            "SELECT recovered_amount, recovered_currency FROM abandoned_carts"
            " WHERE recovered_ms IS NOT NULL AND arm <> ?"
            " AND abandoned_ms >= ?",
            (HOLDOUT, since_ms),
        )
        return [Recovery(amount, currency) for amount, currency in rows]
