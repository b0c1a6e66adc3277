"""The webhook inbox in SQLite: a mixin of the SQLite unit of work."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import aiosqlite

from funnel.inbox import (
    FAILED,
    PENDING,
    PROCESSED,
    Delivery,
    DeliveryLine,
    Incoming,
    PlatformInbox,
)

_DELIVERY_COLUMNS = (
    "id, platform, delivery_id, topic, headers, body, received_ms, status, attempts, error"
)


def delivery_insert(deliveries: Sequence[Incoming]) -> tuple[str, list[object]]:
    """One INSERT for them all, returning the ids of those not kept before."""
    sql = (
        "INSERT INTO inbox (platform, delivery_id, topic, headers, body, received_ms) VALUES"
        + ",".join(["(?, ?, ?, ?, ?, ?)"] * len(deliveries))
        + " ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING id, platform, delivery_id"
    )
    parameters: list[object] = [value for d in deliveries for value in (
        d.platform, d.delivery_id, d.topic, json.dumps(d.headers), d.body, d.received_ms,
    )]  # fmt: skip
    return sql, parameters


def delivery_ids(rows: Iterable[Any], deliveries: Sequence[Incoming]) -> list[int | None]:
    """For each delivery, its new inbox id, or None when it was kept before."""
    kept = {(platform, delivery_id): int(row_id) for row_id, platform, delivery_id in rows}
    # The same delivery twice in one batch is kept once: only its first copy gets the id.
    return [kept.pop((d.platform, d.delivery_id), None) for d in deliveries]


class SqliteInboxStatements:
    _connection: aiosqlite.Connection

    async def receive(
        self,
        platform: str,
        delivery_id: str,
        topic: str,
        headers: dict[str, str],
        body: bytes,
        now_ms: int,
    ) -> int | None:
        incoming = Incoming(platform, delivery_id, topic, headers, body, now_ms)
        return (await self.receive_many([incoming]))[0]

    async def receive_many(self, deliveries: Sequence[Incoming]) -> list[int | None]:
        if not deliveries:
            return []
        sql, parameters = delivery_insert(deliveries)
        rows = await self._connection.execute_fetchall(sql, parameters)
        return delivery_ids(rows, deliveries)

    async def note_rejection(self, platform: str, reason: str, now_ms: int) -> None:
        await self._connection.execute(
            "INSERT INTO webhook_rejections (platform, reason, count, last_ms) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (platform, reason)"
            " DO UPDATE SET count = webhook_rejections.count + 1, last_ms = excluded.last_ms",
            (platform, reason, now_ms),
        )

    async def waiting_deliveries(self, after_id: int, limit: int) -> list[Delivery]:
        rows = await self._connection.execute_fetchall(
            f"SELECT {_DELIVERY_COLUMNS} FROM inbox WHERE status = ? AND id > ?"
            " ORDER BY id LIMIT ?",
            (PENDING, after_id, limit),
        )
        return [_delivery(row) for row in rows]

    async def delivery(self, inbox_id: int) -> Delivery | None:
        rows = await self._connection.execute_fetchall(
            f"SELECT {_DELIVERY_COLUMNS} FROM inbox WHERE id = ?", (inbox_id,)
        )
        row = next(iter(rows), None)
        return None if row is None else _delivery(row)

    async def finish_delivery(self, inbox_id: int, now_ms: int) -> None:
        await self._connection.execute(
            "UPDATE inbox SET status = ?, error = NULL, attempts = attempts + 1,"
            " processed_ms = ? WHERE id = ?",
            (PROCESSED, now_ms, inbox_id),
        )

    async def fail_delivery(self, inbox_id: int, error: str, now_ms: int) -> None:
        await self._connection.execute(
            "UPDATE inbox SET status = ?, error = ?, attempts = attempts + 1, processed_ms = ?"
            " WHERE id = ?",
            (FAILED, error, now_ms, inbox_id),
        )

    async def requeue_deliveries(self, inbox_ids: Sequence[int] | None) -> int:
        before = self._connection.total_changes
        if inbox_ids is None:
            await self._connection.execute(
                "UPDATE inbox SET status = ? WHERE status = ?", (PENDING, FAILED)
            )
        else:
            await self._connection.executemany(
                "UPDATE inbox SET status = ? WHERE id = ? AND status = ?",
                [(PENDING, inbox_id, FAILED) for inbox_id in inbox_ids],
            )
        return self._connection.total_changes - before

    async def drop_delivery(self, inbox_id: int) -> bool:
        cursor = await self._connection.execute(
            "DELETE FROM inbox WHERE id = ? AND status = ?", (inbox_id, FAILED)
        )
        dropped = cursor.rowcount == 1
        await cursor.close()
        return dropped

    async def prune_deliveries(self, before_ms: int) -> int:
        cursor = await self._connection.execute(
            "DELETE FROM inbox WHERE status = ? AND received_ms < ?", (PROCESSED, before_ms)
        )
        pruned = cursor.rowcount
        await cursor.close()
        return pruned

    async def inbox_overview(self, since_ms: int) -> list[PlatformInbox]:
        counts = await self._connection.execute_fetchall(
            "SELECT platform, sum(received_ms >= ?), max(received_ms),"
            " sum(status = ?), sum(status = ?) FROM inbox GROUP BY platform",
            (since_ms, PENDING, FAILED),
        )
        rejections = await self._connection.execute_fetchall(
            "SELECT platform, reason, count, last_ms FROM webhook_rejections"
        )
        found: dict[str, PlatformInbox] = {}
        for platform, recent, last, pending, failed in counts:
            found[platform] = PlatformInbox(
                platform, int(recent or 0), last, int(pending or 0), int(failed or 0), {}, None
            )
        for platform, reason, count, last_ms in rejections:
            entry = found.setdefault(platform, PlatformInbox(platform, 0, None, 0, 0, {}, None))
            entry.rejected[reason] = int(count)
            found[platform] = replace(
                entry, last_rejected_ms=max(entry.last_rejected_ms or 0, int(last_ms))
            )
        return [found[platform] for platform in sorted(found)]

    async def recent_deliveries(self, limit: int, status: str | None = None) -> list[DeliveryLine]:
        where, parameters = ("WHERE status = ?", (status, limit)) if status else ("", (limit,))
        rows = await self._connection.execute_fetchall(
            "SELECT id, platform, topic, received_ms, status, error FROM inbox"
            f" {where} ORDER BY id DESC LIMIT ?",
            parameters,
        )
        return [DeliveryLine(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5]) for r in rows]


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row[0]),
        platform=row[1],
        delivery_id=row[2],
        topic=row[3],
        headers=json.loads(row[4]),
        body=bytes(row[5]),
        received_ms=int(row[6]),
        status=row[7],
        attempts=int(row[8]),
        error=row[9],
    )
