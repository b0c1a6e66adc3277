"""Customers' other keys (phone, e-mail) and the magnets waiting behind a gate, in SQLite.

A mixin of the SQLite unit of work: every statement runs inside its transaction.
"""

from __future__ import annotations

import aiosqlite

from funnel.store.base import GateRequest


class SqliteGateStatements:
    _connection: aiosqlite.Connection

    async def add_key(self, customer_id: int, key: str, now_text: str) -> bool:
        """Attach a key to the customer; False when another customer already has it."""
        await self._connection.execute(
            "INSERT INTO customer_keys (key, customer_id, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING",
            (key, customer_id, now_text),
        )
        rows = await self._connection.execute_fetchall(
            "SELECT customer_id FROM customer_keys WHERE key = ?", (key,)
        )
        return int(next(iter(rows))[0]) == customer_id

    async def keys_of(self, customer_id: int) -> list[str]:
        rows = await self._connection.execute_fetchall(
            "SELECT key FROM customer_keys WHERE customer_id = ? ORDER BY key", (customer_id,)
        )
        return [str(row[0]) for row in rows]

    async def open_gate(
        self, customer_id: int, magnet: str, source: str, gate: str, now_ms: int
    ) -> None:
        """The customer now owes this gate for this magnet; a newer request replaces an older."""
        await self._connection.execute(
            "INSERT INTO gate_requests (customer_id, magnet, source, gate, requested_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET"
            " magnet = excluded.magnet, source = excluded.source, gate = excluded.gate,"
            " attempts = 0, requested_ms = excluded.requested_ms",
            (customer_id, magnet, source, gate, now_ms),
        )

    async def pending_gate(self, customer_id: int) -> GateRequest | None:
        rows = await self._connection.execute_fetchall(
            "SELECT magnet, source, gate, attempts FROM gate_requests WHERE customer_id = ?",
            (customer_id,),
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        return GateRequest(customer_id, str(row[0]), str(row[1]), str(row[2]), int(row[3]))

    async def gate_failed(self, customer_id: int) -> int:
        """Count a wrong answer; returns the attempts so far."""
        await self._connection.execute(
            "UPDATE gate_requests SET attempts = attempts + 1 WHERE customer_id = ?",
            (customer_id,),
        )
        request = await self.pending_gate(customer_id)
        return request.attempts if request else 0

    async def close_gate(self, customer_id: int) -> None:
        await self._connection.execute(
            "DELETE FROM gate_requests WHERE customer_id = ?", (customer_id,)
        )
