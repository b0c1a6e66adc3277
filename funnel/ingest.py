"""Applying what a delivery says: entities merged monotonically, events kept once, customers
linked, and linked customers' events appended to the funnel log.

All of it runs inside the caller's unit of work, so a delivery takes effect whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from funnel.commerce import (
    CART_RANK,
    COMPLETED,
    ORDER_RANK,
    SHIPMENT_RANK,
    CartFacts,
    Change,
    Entity,
    Identity,
    OrderFacts,
    ShipmentFacts,
    Stored,
    entity_of,
    supersedes,
)
from funnel.events import Event, epoch_ms
from funnel.identity import phone_key
from funnel.store.base import FunnelTransaction
from funnel.watch import watch

T = TypeVar("T")
COMMERCE_KEY_PREFIX = "commerce:"


@dataclass(slots=True)
class Applied:
    """What a delivery changed: the funnel events it appended and the entities now linked."""

    recorded: list[Event] = field(default_factory=list)
    linked: list[tuple[Entity, int]] = field(default_factory=list)


def _pick(new: T | None, old: T | None, new_is_newer: bool) -> T | None:
    """The newer report's value, falling back on the other when the newer one lacks it."""
    first, second = (new, old) if new_is_newer else (old, new)
    return first if first is not None else second


def _identity(new: Identity, old: Identity) -> Identity:
    # The first token stays: a later one must not move a linked cart to someone else.
    return Identity(old.link_token or new.link_token, new.phone or old.phone)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if a or b else None


def merge_cart(old: CartFacts, new: CartFacts) -> CartFacts:
    newer = new.updated_at >= old.updated_at
    wins = supersedes(CART_RANK, new.status, new.updated_at, old.status, old.updated_at)
    return replace(
        old,
        status=new.status if wins else old.status,
        created_at=min(old.created_at, new.created_at),
        updated_at=max(old.updated_at, new.updated_at),
        checkout_token=old.checkout_token or new.checkout_token,
        identity=_identity(new.identity, old.identity),
        amount=_pick(new.amount, old.amount, newer),
        currency=_pick(new.currency, old.currency, newer),
        checkout_url=_pick(new.checkout_url, old.checkout_url, newer),
        items=(new.items or old.items) if newer else (old.items or new.items),
        reserved_until=_pick(new.reserved_until, old.reserved_until, newer),
    )


def merge_order(old: OrderFacts, new: OrderFacts) -> OrderFacts:
    newer = new.updated_at >= old.updated_at
    wins = supersedes(ORDER_RANK, new.status, new.updated_at, old.status, old.updated_at)
    return replace(
        old,
        status=new.status if wins else old.status,
        created_at=min(old.created_at, new.created_at),
        updated_at=max(old.updated_at, new.updated_at),
        number=old.number or new.number,
        cart_token=old.cart_token or new.cart_token,
        checkout_token=old.checkout_token or new.checkout_token,
        identity=_identity(new.identity, old.identity),
        amount=_pick(new.amount, old.amount, newer),
        currency=_pick(new.currency, old.currency, newer),
        items=(new.items or old.items) if newer else (old.items or new.items),
        payment_method=_pick(new.payment_method, old.payment_method, newer),
        cash_on_delivery=old.cash_on_delivery or new.cash_on_delivery,
        paid_at=_earliest(old.paid_at, new.paid_at),
        pickup_point=_pick(new.pickup_point, old.pickup_point, newer),
    )


def merge_shipment(old: ShipmentFacts, new: ShipmentFacts) -> ShipmentFacts:
    wins = supersedes(SHIPMENT_RANK, new.status, new.status_at, old.status, old.status_at)
    return replace(
        old,
        status=new.status if wins else old.status,
        status_at=new.status_at if wins else old.status_at,
        order_ref=old.order_ref or new.order_ref,
        identity=_identity(new.identity, old.identity),
        carrier=_pick(new.carrier, old.carrier, wins),
        tracking_number=old.tracking_number or new.tracking_number,
        tracking_url=_pick(new.tracking_url, old.tracking_url, wins),
        pickup_point=_pick(new.pickup_point, old.pickup_point, wins),
        storage_until=_pick(new.storage_until, old.storage_until, wins),
        cod_amount=_pick(new.cod_amount, old.cod_amount, wins),
        cod_currency=_pick(new.cod_currency, old.cod_currency, wins),
    )


async def apply_changes(
    tx: FunnelTransaction, changes: list[Change], platform: str, inbox_id: int, now: datetime
) -> Applied:
    """Merge each change into its entity, keep its events, and link what can be linked."""
    applied = Applied()
    now_ms = epoch_ms(now)
    shipments = []
    for change in changes:
        entity = entity_of(change.facts)
        entity_id, customer_id = await _save(tx, change.facts, now_ms)
        if entity == "shipment":
            shipments.append(entity_id)
        for happening in change.events:
            await tx.add_happening(happening, platform, entity, entity_id, inbox_id)
        if customer_id is None:
            customer_id = await _customer_for(tx, entity, entity_id, change.facts)
        if customer_id is not None:
            await _link(tx, entity, entity_id, customer_id, applied)
    await watch(tx, applied.linked, shipments, now_ms)
    return applied


async def identify(tx: FunnelTransaction, customer_id: int, now: datetime) -> Applied:
    """The customer proved a link token or their phone: their waiting shop records join them."""
    applied = Applied()
    tokens = await tx.link_tokens_of(customer_id)
    phones = [key.removeprefix("phone:") for key in await tx.keys_of(customer_id)
              if key.startswith("phone:")]  # fmt: skip
    for entity, entity_id in await tx.unlinked_entities(tokens, phones):
        await _link(tx, entity, entity_id, customer_id, applied)
    await watch(tx, applied.linked, (), epoch_ms(now))
    return applied


async def _save(tx: FunnelTransaction, facts: object, now_ms: int) -> tuple[int, int | None]:
    if isinstance(facts, CartFacts):
        stored_cart = await tx.find_cart(facts.platform, facts.token)
        if stored_cart is None:
            return await tx.save_cart(facts, None, now_ms), None
        merged_cart = merge_cart(stored_cart.facts, facts)
        await tx.save_cart(merged_cart, stored_cart.id, now_ms)
        return stored_cart.id, stored_cart.customer_id
    if isinstance(facts, OrderFacts):
        return await _save_order(tx, facts, now_ms)
    if isinstance(facts, ShipmentFacts):
        return await _save_shipment(tx, facts, now_ms)
    raise TypeError(f"not a shop entity: {facts!r}")


async def _save_order(
    tx: FunnelTransaction, facts: OrderFacts, now_ms: int
) -> tuple[int, int | None]:
    stored = await tx.find_order(facts.platform, facts.platform_id)
    merged = facts if stored is None else merge_order(stored.facts, facts)
    order_id = await tx.save_order(
        merged, ORDER_RANK[merged.status], None if stored is None else stored.id, now_ms
    )
    refs = [ref for ref in (merged.platform_id, merged.number) if ref]
    for shipment_id in await tx.shipments_awaiting_order(refs):
        await tx.attach_shipment(shipment_id, order_id)
    await _complete_cart(tx, merged)
    return order_id, None if stored is None else stored.customer_id


async def _complete_cart(tx: FunnelTransaction, order: OrderFacts) -> None:
    """An order ends its cart, whichever of the two arrives first."""
    for token in (order.cart_token, order.checkout_token):
        if not token:
            continue
        cart = await _cart_of(tx, order.platform, token)
        if cart is not None and CART_RANK[cart.facts.status] < CART_RANK[COMPLETED]:
            done = replace(cart.facts, status=COMPLETED,
                           updated_at=max(cart.facts.updated_at, order.created_at))  # fmt: skip
            await tx.save_cart(done, cart.id, epoch_ms(order.created_at))


async def _save_shipment(
    tx: FunnelTransaction, facts: ShipmentFacts, now_ms: int
) -> tuple[int, int | None]:
    stored = await tx.find_shipment(facts.ref)
    merged = facts if stored is None else merge_shipment(stored.facts, facts)
    order_id = None if stored is None else stored.order_id
    if order_id is None and merged.order_ref:
        order = await tx.find_order_by_ref(merged.order_ref)
        order_id = None if order is None else order.id
    shipment_id = await tx.save_shipment(
        merged, SHIPMENT_RANK[merged.status], order_id,
        None if stored is None else stored.id, now_ms,
    )  # fmt: skip
    return shipment_id, None if stored is None else stored.customer_id


async def _customer_for(
    tx: FunnelTransaction, entity: Entity, entity_id: int, facts: object
) -> int | None:
    """A token the bot issued and someone claimed; else a Telegram-verified phone; else the
    customer of the order (for a shipment) or of the cart (for an order)."""
    identity = getattr(facts, "identity", Identity())
    if identity.link_token:
        _, owner = await tx.link_token_owner(identity.link_token)
        if owner is not None:
            return owner
    if identity.phone:
        customer = await tx.customer_by_key(phone_key(identity.phone))
        # Phone keys come only from a contact the customer shared about themselves.
        if customer is not None and customer.telegram_user_id is not None:
            return customer.id
    if isinstance(facts, ShipmentFacts):
        stored = await tx.find_shipment(facts.ref)
        if stored is not None and stored.order_id is not None:
            return await tx.entity_customer("order", stored.order_id)
    if isinstance(facts, OrderFacts):
        for token in (facts.cart_token, facts.checkout_token):
            cart = await _cart_of(tx, facts.platform, token) if token else None
            if cart is not None and cart.customer_id is not None:
                return cart.customer_id
    return None


async def _link(
    tx: FunnelTransaction, entity: Entity, entity_id: int, customer_id: int, applied: Applied
) -> None:
    """Link the entity and, through it, its carts, orders and shipments; append their events."""
    work: list[tuple[Entity, int]] = [(entity, entity_id)]
    while work:
        kind, row_id = work.pop()
        owner = await tx.entity_customer(kind, row_id)
        if owner is None:
            await tx.set_entity_customer(kind, row_id, customer_id)
        elif owner != customer_id:
            continue  # someone else's already: their records stay theirs
        await _record_waiting(tx, kind, row_id, customer_id, applied)
        for related in await _related(tx, kind, row_id):
            if await tx.entity_customer(*related) is None:
                work.append(related)
        applied.linked.append((kind, row_id))


async def _record_waiting(
    tx: FunnelTransaction, entity: Entity, entity_id: int, customer_id: int, applied: Applied
) -> None:
    waiting = await tx.unrecorded_happenings(entity, entity_id)
    for _, platform, happening in waiting:
        event = Event(
            customer_id=customer_id,
            type=happening.type,
            occurred_at=happening.occurred_at,
            key=COMMERCE_KEY_PREFIX + happening.key,
            platform=platform,
            properties=happening.properties,
        )
        if await tx.record(event):
            applied.recorded.append(event)
    await tx.mark_recorded([happening_id for happening_id, _, _ in waiting])


async def _related(
    tx: FunnelTransaction, entity: Entity, entity_id: int
) -> list[tuple[Entity, int]]:
    """A cart's orders; an order's cart and shipments."""
    if entity == "shipment":
        return []
    if entity == "cart":
        cart = await tx.cart_by_id(entity_id)
        tokens = [t for t in (cart.facts.token, cart.facts.checkout_token) if t] if cart else []
        platform = cart.facts.platform if cart else ""
        return [("order", o) for o in await tx.orders_of_cart(platform, tokens)]
    order = await tx.order_by_id(entity_id)
    related: list[tuple[Entity, int]] = [
        ("shipment", s) for s in await tx.shipments_of_order(entity_id)
    ]
    if order is not None:
        for token in (order.facts.cart_token, order.facts.checkout_token):
            cart = await _cart_of(tx, order.facts.platform, token) if token else None
            if cart is not None:
                related.append(("cart", cart.id))
    return related


async def _cart_of(tx: FunnelTransaction, platform: str, token: str) -> Stored[CartFacts] | None:
    """The cart an order names by its cart token or its checkout token."""
    return await tx.find_cart(platform, token) or await tx.find_cart_by_checkout(platform, token)
