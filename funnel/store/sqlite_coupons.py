"""Coupon pools and the codes handed out from them, in SQLite.

A mixin of the SQLite unit of work: a code is taken in the same statement that finds it free,
inside a serialized unit of work, so two customers never get the same code.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from funnel.store.base import Coupon, IssuedCoupon


class SqliteCouponStatements:
    _connection: aiosqlite.Connection

    async def load_coupons(self, pool: str, codes: Sequence[str]) -> int:
        """Add codes to the pool; codes already known are skipped. Returns how many were new."""
        before = self._connection.total_changes
        await self._connection.executemany(
            "INSERT INTO coupons (code, pool) VALUES (?, ?) ON CONFLICT (code) DO NOTHING",
            [(code, pool) for code in codes],
        )
        return self._connection.total_changes - before

    async def coupon_of(
        self, customer_id: int, magnet: str, cart_id: int | None = None
    ) -> Coupon | None:
        rows = await self._connection.execute_fetchall(
            "SELECT code, pool, expires_ms FROM coupons WHERE customer_id = ? AND magnet = ?"
            " AND coalesce(cart_id, 0) = ?",
            (customer_id, magnet, cart_id or 0),
        )
        row = next(iter(rows), None)
        return None if row is None else Coupon(str(row[0]), str(row[1]), row[2])

    async def take_coupon(
        self, pool: str, customer_id: int, magnet: str, now_ms: int, expires_ms: int,
        cart_id: int | None = None,
    ) -> Coupon | None:  # fmt: skip
        """A free code from the pool, now the customer's; None when the pool is empty."""
        rows = await self._connection.execute_fetchall(
            "UPDATE coupons SET customer_id = ?, magnet = ?, issued_ms = ?, expires_ms = ?,"
            " cart_id = ? WHERE code = (SELECT code FROM coupons WHERE pool = ?"
            " AND customer_id IS NULL ORDER BY code LIMIT 1) RETURNING code",
            (customer_id, magnet, now_ms, expires_ms, cart_id, pool),
        )
        row = next(iter(rows), None)
        return None if row is None else Coupon(str(row[0]), pool, expires_ms)

    async def add_issued_coupon(
        self, code: str, pool: str, customer_id: int, magnet: str, now_ms: int, expires_ms: int,
        cart_id: int | None = None,
    ) -> Coupon:  # fmt: skip
        await self._connection.execute(
            "INSERT INTO coupons (code, pool, customer_id, magnet, issued_ms, expires_ms,"
            " cart_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code, pool, customer_id, magnet, now_ms, expires_ms, cart_id),
        )
        return Coupon(code, pool, expires_ms)

    async def set_coupon_expiry(self, code: str, expires_ms: int) -> None:
        await self._connection.execute(
            "UPDATE coupons SET expires_ms = ? WHERE code = ? AND redeemed_ms IS NULL",
            (expires_ms, code),
        )

    async def free_coupons(self, pool: str) -> int:
        rows = await self._connection.execute_fetchall(
            "SELECT count(*) FROM coupons WHERE pool = ? AND customer_id IS NULL", (pool,)
        )
        return int(next(iter(rows))[0])

    async def coupon(self, code: str) -> IssuedCoupon | None:
        rows = await self._connection.execute_fetchall(
            "SELECT code, pool, customer_id, magnet, expires_ms, redeemed_ms FROM coupons"
            " WHERE code = ?",
            (code,),
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        return IssuedCoupon(str(row[0]), str(row[1]), row[2], row[3], row[4], row[5])

    async def redeem_coupon(self, code: str, now_ms: int) -> bool:
        """Mark it used; False when it already was."""
        cursor = await self._connection.execute(
            "UPDATE coupons SET redeemed_ms = ? WHERE code = ? AND redeemed_ms IS NULL",
            (now_ms, code),
        )
        done = cursor.rowcount == 1
        await cursor.close()
        return done
