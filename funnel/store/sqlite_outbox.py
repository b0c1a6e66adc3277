"""The outbox, the scheduler's jobs, admin settings and alert collapsing, in SQLite.

A mixin of the SQLite unit of work: every statement runs inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from funnel.events import epoch_ms
from funnel.outbox import (
    CANCELLED,
    FAILED,
    MARKETING,
    PENDING,
    SENDING,
    SENT,
    Due,
    End,
    Intent,
    Outgoing,
    Policy,
    Postpone,
    Recipient,
    decide,
)
from funnel.store.base import Job, OutboxHealth

DAY_MS = 86_400_000
# A cart reminder is checked against its cart when it falls due: the cart still open, no order
# by the customer since the cart started, its series not ended (by an order, or a newer cart).
# A parcel message is checked against the parcel: still in the status it tells of.
_STALE = (
    "CASE WHEN o.shipment_id IS NOT NULL AND s.status <> o.shipment_status"
    " THEN 'the parcel moved on'"
    " WHEN o.cart_id IS NULL THEN NULL"
    " WHEN k.status NOT IN ('open', 'checkout') THEN 'the cart was ordered or emptied'"
    " WHEN EXISTS (SELECT 1 FROM events e WHERE e.customer_id = o.customer_id"
    " AND e.type IN ('order_created', 'order_paid') AND e.occurred_ms >= k.created_ms)"
    " THEN 'the customer ordered'"
    " WHEN coalesce(a.active, 0) = 0 THEN 'the cart''s reminders ended'"
    " END"
)


class SqliteOutboxStatements:
    _connection: aiosqlite.Connection

    # Outbox ----------------------------------------------------------------------------------

    async def enqueue(self, intent: Intent, now_ms: int) -> int:
        """The row's id; with a dedupe key already used, the id of that earlier row."""
        cursor = await self._connection.execute(
            "INSERT INTO outbox (customer_id, template, variables, kind, quiet_hours,"
            " stop_on_order, due_ms, expires_ms, dedupe_key, cancel_key, created_ms, cart_id,"
            " shipment_id, shipment_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (
                intent.customer_id,
                intent.template,
                json.dumps(dict(intent.variables), ensure_ascii=False),
                intent.kind,
                int(intent.quiet_hours),
                int(intent.stop_on_order),
                epoch_ms(intent.not_before),
                epoch_ms(intent.expires_at) if intent.expires_at else None,
                intent.dedupe_key,
                intent.cancel_key,
                now_ms,
                intent.cart_id,
                *(intent.shipment or (None, None)),
            ),
        )
        inserted, row_id = cursor.rowcount == 1, cursor.lastrowid
        await cursor.close()
        if inserted and row_id is not None:
            return row_id
        rows = await self._connection.execute_fetchall(
            "SELECT id FROM outbox WHERE dedupe_key = ?", (intent.dedupe_key,)
        )
        return int(next(iter(rows))[0])

    async def cancel(self, cancel_key: str, reason: str, now_ms: int) -> int:
        cursor = await self._connection.execute(
            "UPDATE outbox SET status = ?, reason = ?, finished_ms = ?"
            " WHERE cancel_key = ? AND status = ?",
            (CANCELLED, reason, now_ms, cancel_key, PENDING),
        )
        count = cursor.rowcount
        await cursor.close()
        return count

    async def next_due_ms(self) -> int | None:
        rows = await self._connection.execute_fetchall(
            "SELECT min(due_ms) FROM outbox WHERE status = ?"
            " UNION ALL SELECT min(lease_ms) FROM outbox WHERE status = ?",
            (PENDING, SENDING),
        )
        times = [int(row[0]) for row in rows if row[0] is not None]
        return min(times) if times else None

    async def claim(
        self, now_ms: int, limit: int, lease_ms: int, policy: Policy
    ) -> list[Outgoing]:
        """Due rows the policy lets go now, marked sending under a lease; transactional first.

        Rows left sending by a crash come back once their lease has run out.
        """
        await self._connection.execute(
            "UPDATE outbox SET status = ?, lease_ms = NULL WHERE status = ? AND lease_ms <= ?",
            (PENDING, SENDING, now_ms),
        )
        rows = await self._connection.execute_fetchall(
            "SELECT o.id, o.customer_id, o.template, o.variables, o.kind, o.quiet_hours,"
            " o.expires_ms, o.attempts, c.telegram_user_id, c.language, c.time_zone,"
            " c.blocked, c.opted_out, o.stop_on_order, o.stop_on_order AND EXISTS"
            " (SELECT 1 FROM events e"
            " WHERE e.customer_id = o.customer_id AND e.type IN ('order_created', 'order_paid')"
            " AND e.occurred_ms >= o.created_ms),"
            f" {_STALE}"
            " FROM outbox o JOIN customers c ON c.id = o.customer_id"
            " LEFT JOIN carts k ON k.id = o.cart_id"
            " LEFT JOIN abandoned_carts a ON a.cart_id = o.cart_id"
            " LEFT JOIN shipments s ON s.id = o.shipment_id"
            " WHERE o.status = ? AND o.due_ms <= ?"
            " ORDER BY o.kind = 'marketing', o.due_ms, o.id LIMIT ?",
            (PENDING, now_ms, limit),
        )
        sent_recently = await self._marketing_sent(
            sorted({int(row[1]) for row in rows if row[4] == MARKETING}), now_ms
        )
        claimed: list[Outgoing] = []
        for row in rows:
            (row_id, customer, template, variables, kind, quiet, expires, attempts,
             chat, language, zone, blocked, opted_out, stop_on_order,
             ordered, stale) = row  # fmt: skip
            if chat is None:
                await self._finish(row_id, FAILED, "the customer has no Telegram chat", now_ms)
                continue
            recipient = Recipient(
                bool(blocked),
                bool(opted_out),
                zone,
                tuple(sent_recently.get(customer, ())),
                bool(ordered),
            )
            due = Due(kind, bool(quiet), expires, bool(stop_on_order), stale)
            decision = decide(due, recipient, now_ms, policy)
            if isinstance(decision, End):
                await self._finish(row_id, decision.status, decision.reason, now_ms)
            elif isinstance(decision, Postpone):
                await self.postpone(row_id, decision.until_ms, decision.reason)
            else:
                if kind == MARKETING:
                    # Counted now, so that a burst cannot slip past the cap.
                    sent_recently.setdefault(customer, []).append(now_ms)
                await self._connection.execute(
                    "UPDATE outbox SET status = ?, lease_ms = ?, attempts = attempts + 1"
                    " WHERE id = ?",
                    (SENDING, now_ms + lease_ms, row_id),
                )
                claimed.append(
                    Outgoing(
                        row_id, customer, chat, language, template,
                        json.loads(variables), kind, attempts + 1, zone,
                    )
                )  # fmt: skip
        return claimed

    async def _marketing_sent(self, customers: Sequence[int], now_ms: int) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for start in range(0, len(customers), 500):
            chunk = customers[start : start + 500]
            # A message being sent counts as sent now: a burst cannot slip past the cap.
            rows = await self._connection.execute_fetchall(
                "SELECT customer_id, coalesce(finished_ms, ?) AS at FROM outbox"
                f" WHERE customer_id IN ({','.join('?' * len(chunk))}) AND kind = ?"
                " AND (status = ? AND finished_ms > ? OR status = ?) ORDER BY at",
                (now_ms, *chunk, MARKETING, SENT, now_ms - DAY_MS, SENDING),
            )
            for customer, finished in rows:
                found.setdefault(int(customer), []).append(int(finished))
        return found

    async def mark_sent(self, row_id: int, now_ms: int) -> None:
        await self._finish(row_id, SENT, None, now_ms)

    async def mark_failed(self, row_id: int, reason: str, now_ms: int) -> None:
        await self._finish(row_id, FAILED, reason, now_ms)

    async def postpone(self, row_id: int, due_ms: int, reason: str) -> None:
        """Back to pending until due_ms; attempts stay as they are."""
        await self._connection.execute(
            "UPDATE outbox SET status = ?, due_ms = ?, lease_ms = NULL, reason = ? WHERE id = ?",
            (PENDING, due_ms, reason or None, row_id),
        )

    async def give_back(self, row_id: int, due_ms: int) -> None:
        """Return a claimed row that was not attempted (pacing), without counting an attempt."""
        await self._connection.execute(
            "UPDATE outbox SET status = ?, due_ms = ?, lease_ms = NULL,"
            " attempts = attempts - 1 WHERE id = ?",
            (PENDING, due_ms, row_id),
        )

    async def block_customer(self, customer_id: int, now_ms: int) -> int:
        """Mark the customer blocked and cancel everything still waiting for them."""
        await self._connection.execute(
            "UPDATE customers SET blocked = 1 WHERE id = ?", (customer_id,)
        )
        cursor = await self._connection.execute(
            "UPDATE outbox SET status = ?, reason = ?, finished_ms = ?"
            " WHERE customer_id = ? AND status = ?",
            (CANCELLED, "the customer blocked the bot", now_ms, customer_id, PENDING),
        )
        count = cursor.rowcount
        await cursor.close()
        return count

    async def opt_out(self, customer_id: int, now_ms: int) -> int:
        """The customer wants no more marketing: cancel what is waiting; returns how much."""
        await self._connection.execute(
            "UPDATE customers SET opted_out = 1 WHERE id = ?", (customer_id,)
        )
        cursor = await self._connection.execute(
            "UPDATE outbox SET status = ?, reason = ?, finished_ms = ?"
            " WHERE customer_id = ? AND status = ? AND kind = ?",
            (CANCELLED, "the customer opted out of marketing", now_ms, customer_id, PENDING,
             MARKETING),
        )  # fmt: skip
        count = cursor.rowcount
        await cursor.close()
        return count

    async def set_language(self, customer_id: int, language: str) -> None:
        await self._connection.execute(
            "UPDATE customers SET language = ? WHERE id = ?", (language, customer_id)
        )

    async def set_time_zone(self, customer_id: int, zone: str) -> None:
        await self._connection.execute(
            "UPDATE customers SET time_zone = ? WHERE id = ?", (zone, customer_id)
        )

    async def welcome_back(self, customer_id: int) -> None:
        """A customer who starts the bot again has unblocked it and wants to hear from us."""
        await self._connection.execute(
            "UPDATE customers SET opted_out = 0, blocked = 0 WHERE id = ?", (customer_id,)
        )

    async def _finish(self, row_id: int, status: str, reason: str | None, now_ms: int) -> None:
        await self._connection.execute(
            "UPDATE outbox SET status = ?, reason = ?, finished_ms = ?, lease_ms = NULL"
            " WHERE id = ?",
            (status, reason, now_ms, row_id),
        )

    async def outbox_row(self, row_id: int) -> dict[str, Any]:
        rows = await self._connection.execute_fetchall(
            "SELECT status, reason, attempts, due_ms FROM outbox WHERE id = ?", (row_id,)
        )
        status, reason, attempts, due = next(iter(rows))
        return {"status": status, "reason": reason, "attempts": attempts, "due_ms": due}

    async def outbox_health(self, now_ms: int) -> OutboxHealth:
        rows = await self._connection.execute_fetchall(
            "SELECT (SELECT count(*) FROM outbox WHERE status = ?),"
            " (SELECT count(*) FROM outbox WHERE status = ?),"
            " (SELECT count(*) FROM outbox WHERE status = ? AND finished_ms > ?),"
            " (SELECT min(due_ms) FROM outbox WHERE status = ?)",
            (PENDING, SENDING, FAILED, now_ms - DAY_MS, PENDING),
        )
        pending, sending, failed, oldest = next(iter(rows))
        return OutboxHealth(int(pending), int(sending), int(failed), oldest)

    # Jobs ------------------------------------------------------------------------------------

    async def schedule(
        self, kind: str, key: str, due_ms: int, payload: dict[str, Any], *, replace: bool = True
    ) -> None:
        """Schedule work. The same key moves the existing job, or with replace=False leaves it
        as it is (so that a job overdue after a restart still runs)."""
        on_conflict = (
            "DO UPDATE SET due_ms = excluded.due_ms, payload = excluded.payload,"
            " kind = excluded.kind"
            if replace
            else "DO NOTHING"
        )
        await self._connection.execute(
            f"INSERT INTO jobs (kind, key, due_ms, payload) VALUES (?, ?, ?, ?)"
            f" ON CONFLICT (key) {on_conflict}",
            (kind, key, due_ms, json.dumps(payload, ensure_ascii=False)),
        )

    async def due_jobs(self, now_ms: int, limit: int) -> list[Job]:
        rows = await self._connection.execute_fetchall(
            "SELECT id, kind, key, due_ms, payload FROM jobs WHERE due_ms <= ?"
            " ORDER BY due_ms, id LIMIT ?",
            (now_ms, limit),
        )
        return [Job(int(r[0]), r[1], r[2], int(r[3]), json.loads(r[4])) for r in rows]

    async def finish_job(self, job: Job) -> None:
        """Remove a job that ran, unless it was rescheduled meanwhile."""
        await self._connection.execute(
            "DELETE FROM jobs WHERE id = ? AND due_ms = ?", (job.id, job.due_ms)
        )

    async def next_job_ms(self) -> int | None:
        rows = await self._connection.execute_fetchall("SELECT min(due_ms) FROM jobs")
        value = next(iter(rows))[0]
        return None if value is None else int(value)

    # Admins ----------------------------------------------------------------------------------

    async def set_digest(self, telegram_user_id: int, wanted: bool) -> None:
        await self._connection.execute(
            "INSERT INTO admin_settings (telegram_user_id, digest) VALUES (?, ?)"
            " ON CONFLICT (telegram_user_id) DO UPDATE SET digest = excluded.digest",
            (telegram_user_id, int(wanted)),
        )

    async def digest_opted_out(self) -> set[int]:
        rows = await self._connection.execute_fetchall(
            "SELECT telegram_user_id FROM admin_settings WHERE digest = 0"
        )
        return {int(row[0]) for row in rows}

    async def note_alert(self, key: str, now_ms: int, window_ms: int) -> bool:
        """True when the alert should go out; False when it repeats one sent within the window."""
        rows = await self._connection.execute_fetchall(
            "SELECT last_sent_ms FROM alerts WHERE key = ?", (key,)
        )
        last = next(iter(rows), None)
        if last is not None and now_ms - int(last[0]) < window_ms:
            await self._connection.execute(
                "UPDATE alerts SET collapsed = collapsed + 1 WHERE key = ?", (key,)
            )
            return False
        await self._connection.execute(
            "INSERT INTO alerts (key, last_sent_ms) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET last_sent_ms = excluded.last_sent_ms, collapsed = 0",
            (key, now_ms),
        )
        return True
