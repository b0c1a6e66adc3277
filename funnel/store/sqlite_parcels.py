"""Parcel notices, stale parcels and delivery figures, in SQLite.

A mixin of the SQLite unit of work; the shipments themselves are in sqlite_commerce.
"""

from __future__ import annotations

import aiosqlite

from funnel.parcels import FINAL_STATUSES
from funnel.store.base_parcels import DeliveredSpan

_FINAL = ", ".join(f"'{status}'" for status in sorted(FINAL_STATUSES))


class SqliteParcelStatements:
    _connection: aiosqlite.Connection

    async def parcel_told(self, shipment_id: int, kind: str, status: str) -> bool:
        rows = await self._connection.execute_fetchall(
            "SELECT 1 FROM parcel_notices WHERE shipment_id = ? AND kind = ? AND status = ?",
            (shipment_id, kind, status),
        )
        return bool(list(rows))

    async def note_parcel(
        self, shipment_id: int, kind: str, status: str, outbox_id: int | None, now_ms: int
    ) -> bool:
        cursor = await self._connection.execute(
            "INSERT INTO parcel_notices (shipment_id, kind, status, outbox_id, noticed_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shipment_id, kind, status) DO NOTHING",
            (shipment_id, kind, status, outbox_id, now_ms),
        )
        inserted = cursor.rowcount == 1
        await cursor.close()
        return inserted

    async def stale_parcels(self, ref_prefix: str, before_ms: int, limit: int) -> list[str]:
        rows = await self._connection.execute_fetchall(
            f"SELECT ref FROM shipments WHERE ref LIKE ? AND status NOT IN ({_FINAL})"
            " AND status_ms < ? AND coalesce(polled_ms, 0) < ? ORDER BY status_ms LIMIT ?",
            (ref_prefix + "%", before_ms, before_ms, limit),
        )
        return [str(row[0]) for row in rows]

    async def mark_polled(self, refs: list[str], now_ms: int) -> None:
        await self._connection.executemany(
            "UPDATE shipments SET polled_ms = ? WHERE ref = ?", [(now_ms, ref) for ref in refs]
        )

    async def shipment_statuses(self, since_ms: int) -> dict[str, int]:
        rows = await self._connection.execute_fetchall(
            "SELECT status, count(*) FROM shipments WHERE created_ms >= ?"
            " GROUP BY status ORDER BY min(status_rank), status",
            (since_ms,),
        )
        return {str(status): int(count) for status, count in rows}

    async def delivered_spans(self, since_ms: int) -> list[DeliveredSpan]:
        rows = await self._connection.execute_fetchall(
            "SELECT min(e.occurred_ms), s.status_ms FROM shipments s"
            " JOIN commerce_events e ON e.entity = 'shipment' AND e.entity_id = s.id"
            " WHERE s.status = 'delivered' AND s.created_ms >= ? GROUP BY s.id, s.status_ms",
            (since_ms,),
        )
        return [DeliveredSpan(int(first), int(delivered)) for first, delivered in rows]
