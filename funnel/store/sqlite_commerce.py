"""Carts, orders, shipments, their normalized events and link tokens, in SQLite.

A mixin of the SQLite unit of work. Which report wins is decided in funnel.ingest; these
statements only read and write what it decided.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from funnel.commerce import (
    CartFacts,
    Entity,
    Happening,
    Identity,
    Item,
    OrderFacts,
    ShipmentFacts,
    Stored,
)
from funnel.events import epoch_ms, from_epoch_ms

_TABLES: dict[Entity, str] = {"cart": "carts", "order": "orders", "shipment": "shipments"}
_CART_COLUMNS = (
    "id, customer_id, platform, token, status, created_ms, updated_ms, checkout_token,"
    " link_token, phone, amount, currency, checkout_url, items, reserved_until_ms"
)
_ORDER_COLUMNS = (
    "id, customer_id, platform, platform_id, status, created_ms, updated_ms, number, cart_token,"
    " checkout_token, link_token, phone, amount, currency, items, payment_method,"
    " cash_on_delivery, paid_ms, pickup_point"
)
_SHIPMENT_COLUMNS = (
    "id, customer_id, order_id, ref, status, status_ms, order_ref, phone, carrier,"
    " tracking_number, tracking_url, pickup_point, storage_until_ms, cod_amount, cod_currency"
)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_ms(moment)


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else from_epoch_ms(ms)


def _items_json(items: Sequence[Item]) -> str:
    return json.dumps(
        [{"name": i.name, "quantity": i.quantity, "price": i.price} for i in items],
        ensure_ascii=False,
    )


def _items(text: str) -> tuple[Item, ...]:
    return tuple(Item(i["name"], int(i["quantity"]), i.get("price")) for i in json.loads(text))


class SqliteCommerceStatements:
    _connection: aiosqlite.Connection

    async def _one(self, sql: str, parameters: Sequence[object]) -> Any:
        rows = await self._connection.execute_fetchall(sql, parameters)
        return next(iter(rows), None)

    async def find_cart(self, platform: str, token: str) -> Stored[CartFacts] | None:
        row = await self._one(
            f"SELECT {_CART_COLUMNS} FROM carts WHERE platform = ? AND token = ?",
            (platform, token),
        )
        return None if row is None else _cart(row)

    async def cart_by_id(self, cart_id: int) -> Stored[CartFacts] | None:
        row = await self._one(f"SELECT {_CART_COLUMNS} FROM carts WHERE id = ?", (cart_id,))
        return None if row is None else _cart(row)

    async def find_cart_by_checkout(
        self, platform: str, checkout_token: str
    ) -> Stored[CartFacts] | None:
        row = await self._one(
            f"SELECT {_CART_COLUMNS} FROM carts WHERE platform = ? AND checkout_token = ?",
            (platform, checkout_token),
        )
        return None if row is None else _cart(row)

    async def save_cart(self, facts: CartFacts, row_id: int | None, now_ms: int) -> int:
        values = (
            facts.platform, facts.token, facts.status, epoch_ms(facts.created_at),
            epoch_ms(facts.updated_at), facts.checkout_token, facts.identity.link_token,
            facts.identity.phone, facts.amount, facts.currency, facts.checkout_url,
            _items_json(facts.items), _ms(facts.reserved_until),
        )  # fmt: skip
        if row_id is not None:
            await self._connection.execute(
                "UPDATE carts SET platform = ?, token = ?, status = ?, created_ms = ?,"
                " updated_ms = ?, checkout_token = ?, link_token = ?, phone = ?, amount = ?,"
                " currency = ?, checkout_url = ?, items = ?, reserved_until_ms = ? WHERE id = ?",
                (*values, row_id),
            )
            return row_id
        row = await self._one(
            "INSERT INTO carts (platform, token, status, created_ms, updated_ms, checkout_token,"
            " link_token, phone, amount, currency, checkout_url, items, reserved_until_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            values,
        )
        return int(row[0])

    async def find_order(self, platform: str, platform_id: str) -> Stored[OrderFacts] | None:
        row = await self._one(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE platform = ? AND platform_id = ?",
            (platform, platform_id),
        )
        return None if row is None else _order(row)

    async def order_by_id(self, order_id: int) -> Stored[OrderFacts] | None:
        row = await self._one(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        return None if row is None else _order(row)

    async def find_order_by_ref(self, ref: str) -> Stored[OrderFacts] | None:
        row = await self._one(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE platform_id = ?"
            f" UNION ALL SELECT {_ORDER_COLUMNS} FROM orders WHERE number = ? LIMIT 1",
            (ref, ref),
        )
        return None if row is None else _order(row)

    async def save_order(
        self, facts: OrderFacts, status_rank: int, row_id: int | None, now_ms: int
    ) -> int:
        values = (
            facts.platform, facts.platform_id, facts.status, status_rank,
            epoch_ms(facts.created_at), epoch_ms(facts.updated_at), facts.number,
            facts.cart_token, facts.checkout_token, facts.identity.link_token,
            facts.identity.phone, facts.amount, facts.currency, _items_json(facts.items),
            facts.payment_method, int(facts.cash_on_delivery), _ms(facts.paid_at),
            facts.pickup_point,
        )  # fmt: skip
        if row_id is not None:
            await self._connection.execute(
                "UPDATE orders SET platform = ?, platform_id = ?, status = ?, status_rank = ?,"
                " created_ms = ?, updated_ms = ?, number = ?, cart_token = ?,"
                " checkout_token = ?, link_token = ?, phone = ?, amount = ?, currency = ?,"
                " items = ?, payment_method = ?, cash_on_delivery = ?, paid_ms = ?,"
                " pickup_point = ? WHERE id = ?",
                (*values, row_id),
            )
            return row_id
        row = await self._one(
            "INSERT INTO orders (platform, platform_id, status, status_rank, created_ms,"
            " updated_ms, number, cart_token, checkout_token, link_token, phone, amount,"
            " currency, items, payment_method, cash_on_delivery, paid_ms, pickup_point)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            values,
        )
        return int(row[0])

    async def find_shipment(self, ref: str) -> Stored[ShipmentFacts] | None:
        row = await self._one(f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE ref = ?", (ref,))
        return None if row is None else _shipment(row)

    async def shipment_by_id(self, shipment_id: int) -> Stored[ShipmentFacts] | None:
        row = await self._one(
            f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE id = ?", (shipment_id,)
        )
        return None if row is None else _shipment(row)

    async def waiting_at_pickup(self) -> list[Stored[ShipmentFacts]]:
        rows = await self._connection.execute_fetchall(
            f"SELECT {_SHIPMENT_COLUMNS} FROM shipments WHERE status = 'ready_for_pickup'"
            " ORDER BY status_ms"
        )
        return [_shipment(row) for row in rows]

    async def save_shipment(
        self,
        facts: ShipmentFacts,
        status_rank: int,
        order_id: int | None,
        row_id: int | None,
        now_ms: int,
    ) -> int:
        values = (
            facts.ref, facts.status, status_rank, epoch_ms(facts.status_at), facts.order_ref,
            order_id, facts.identity.phone, facts.carrier, facts.tracking_number,
            facts.tracking_url, facts.pickup_point, _ms(facts.storage_until), facts.cod_amount,
            facts.cod_currency,
        )  # fmt: skip
        if row_id is not None:
            await self._connection.execute(
                "UPDATE shipments SET ref = ?, status = ?, status_rank = ?, status_ms = ?,"
                " order_ref = ?, order_id = ?, phone = ?, carrier = ?, tracking_number = ?,"
                " tracking_url = ?, pickup_point = ?, storage_until_ms = ?, cod_amount = ?,"
                " cod_currency = ?, updated_ms = ? WHERE id = ?",
                (*values, now_ms, row_id),
            )
            return row_id
        row = await self._one(
            "INSERT INTO shipments (ref, status, status_rank, status_ms, order_ref, order_id,"
            " phone, carrier, tracking_number, tracking_url, pickup_point, storage_until_ms,"
            " cod_amount, cod_currency, created_ms, updated_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (*values, now_ms, now_ms),
        )
        return int(row[0])

    async def shipments_awaiting_order(self, refs: Sequence[str]) -> list[int]:
        if not refs:
            return []
        rows = await self._connection.execute_fetchall(
            "SELECT id FROM shipments WHERE order_id IS NULL"
            f" AND order_ref IN ({','.join('?' * len(refs))}) ORDER BY id",
            list(refs),
        )
        return [int(row[0]) for row in rows]

    async def attach_shipment(self, shipment_id: int, order_id: int) -> None:
        await self._connection.execute(
            "UPDATE shipments SET order_id = ? WHERE id = ?", (order_id, shipment_id)
        )

    async def shipments_of_order(self, order_id: int) -> list[int]:
        rows = await self._connection.execute_fetchall(
            "SELECT id FROM shipments WHERE order_id = ? ORDER BY id", (order_id,)
        )
        return [int(row[0]) for row in rows]

    async def orders_of_cart(self, platform: str, tokens: Sequence[str]) -> list[int]:
        if not tokens:
            return []
        marks = ",".join("?" * len(tokens))
        rows = await self._connection.execute_fetchall(
            f"SELECT id FROM orders WHERE platform = ? AND (cart_token IN ({marks})"
            f" OR checkout_token IN ({marks})) ORDER BY id",
            (platform, *tokens, *tokens),
        )
        return [int(row[0]) for row in rows]

    async def set_entity_customer(self, entity: Entity, entity_id: int, customer_id: int) -> bool:
        cursor = await self._connection.execute(
            f"UPDATE {_TABLES[entity]} SET customer_id = ? WHERE id = ? AND customer_id IS NULL",
            (customer_id, entity_id),
        )
        linked = cursor.rowcount == 1
        await cursor.close()
        return linked

    async def entity_customer(self, entity: Entity, entity_id: int) -> int | None:
        row = await self._one(
            f"SELECT customer_id FROM {_TABLES[entity]} WHERE id = ?", (entity_id,)
        )
        return None if row is None or row[0] is None else int(row[0])

    async def unlinked_entities(
        self, link_tokens: Sequence[str], phones: Sequence[str]
    ) -> list[tuple[Entity, int]]:
        found: list[tuple[Entity, int]] = []
        for entity, table in _TABLES.items():
            clauses: list[str] = []
            parameters: list[str] = []
            if link_tokens and entity != "shipment":
                clauses.append(f"link_token IN ({','.join('?' * len(link_tokens))})")
                parameters.extend(link_tokens)
            if phones:
                clauses.append(f"phone IN ({','.join('?' * len(phones))})")
                parameters.extend(phones)
            if not clauses:
                continue
            rows = await self._connection.execute_fetchall(
                f"SELECT id FROM {table} WHERE customer_id IS NULL AND ({' OR '.join(clauses)})"
                " ORDER BY id",
                parameters,
            )
            found.extend((entity, int(row[0])) for row in rows)
        return found

    async def add_happening(
        self, happening: Happening, platform: str, entity: Entity, entity_id: int, inbox_id: int
    ) -> bool:
        row = await self._one(
            "INSERT INTO commerce_events (key, type, platform, entity, entity_id, occurred_at,"
            " occurred_ms, properties, inbox_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING RETURNING id",
            (
                happening.key, happening.type, platform, entity, entity_id,
                happening.occurred_at.isoformat(), epoch_ms(happening.occurred_at),
                json.dumps(happening.properties, ensure_ascii=False, sort_keys=True), inbox_id,
            ),
        )  # fmt: skip
        return row is not None

    async def unrecorded_happenings(
        self, entity: Entity, entity_id: int
    ) -> list[tuple[int, str, Happening]]:
        rows = await self._connection.execute_fetchall(
            "SELECT id, platform, type, occurred_at, key, properties FROM commerce_events"
            " WHERE entity = ? AND entity_id = ? AND recorded = 0 ORDER BY occurred_ms, id",
            (entity, entity_id),
        )
        return [
            (
                int(r[0]),
                r[1],
                Happening(r[2], datetime.fromisoformat(r[3]), r[4], json.loads(r[5])),
            )
            for r in rows
        ]

    async def mark_recorded(self, happening_ids: Sequence[int]) -> None:
        await self._connection.executemany(
            "UPDATE commerce_events SET recorded = 1 WHERE id = ?",
            [(happening_id,) for happening_id in happening_ids],
        )

    async def issue_link_token(self, token: str, customer_id: int | None, now_ms: int) -> None:
        await self._connection.execute(
            "INSERT INTO link_tokens (token, customer_id, issued_ms, claimed_ms)"
            " VALUES (?, ?, ?, ?)",
            (token, customer_id, now_ms, None if customer_id is None else now_ms),
        )

    async def link_token_owner(self, token: str) -> tuple[bool, int | None]:
        row = await self._one("SELECT customer_id FROM link_tokens WHERE token = ?", (token,))
        if row is None:
            return False, None
        return True, None if row[0] is None else int(row[0])

    async def claim_link_token(self, token: str, customer_id: int, now_ms: int) -> bool:
        await self._connection.execute(
            "UPDATE link_tokens SET customer_id = ?, claimed_ms = ?"
            " WHERE token = ? AND customer_id IS NULL",
            (customer_id, now_ms, token),
        )
        issued, owner = await self.link_token_owner(token)
        return issued and owner == customer_id

    async def link_tokens_of(self, customer_id: int) -> list[str]:
        rows = await self._connection.execute_fetchall(
            "SELECT token FROM link_tokens WHERE customer_id = ? ORDER BY issued_ms",
            (customer_id,),
        )
        return [str(row[0]) for row in rows]


def _happening(row: Any) -> Happening:
    return Happening(row[0], datetime.fromisoformat(row[1]), row[2], json.loads(row[3]))


def _cart(row: Any) -> Stored[CartFacts]:
    facts = CartFacts(
        platform=row[2], token=row[3], status=row[4], created_at=from_epoch_ms(row[5]),
        updated_at=from_epoch_ms(row[6]), checkout_token=row[7],
        identity=Identity(row[8], row[9]), amount=row[10], currency=row[11],
        checkout_url=row[12], items=_items(row[13]), reserved_until=_moment(row[14]),
    )  # fmt: skip
    return Stored(int(row[0]), row[1], facts)


def _order(row: Any) -> Stored[OrderFacts]:
    facts = OrderFacts(
        platform=row[2], platform_id=row[3], status=row[4], created_at=from_epoch_ms(row[5]),
        updated_at=from_epoch_ms(row[6]), number=row[7], cart_token=row[8],
        checkout_token=row[9], identity=Identity(row[10], row[11]), amount=row[12],
        currency=row[13], items=_items(row[14]), payment_method=row[15],
        cash_on_delivery=bool(row[16]), paid_at=_moment(row[17]), pickup_point=row[18],
    )  # fmt: skip
    return Stored(int(row[0]), row[1], facts)


def _shipment(row: Any) -> Stored[ShipmentFacts]:
    facts = ShipmentFacts(
        ref=row[3], status=row[4], status_at=from_epoch_ms(row[5]), order_ref=row[6],
        identity=Identity(None, row[7]), carrier=row[8], tracking_number=row[9],
        tracking_url=row[10], pickup_point=row[11], storage_until=_moment(row[12]),
        cod_amount=row[13], cod_currency=row[14],
    )  # fmt: skip
    return Stored(int(row[0]), row[1], facts, order_id=row[2])
