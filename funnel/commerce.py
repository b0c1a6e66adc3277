"""What shops and carriers tell us, in one vocabulary: carts, orders, shipments and their events.

Platform parsers turn each delivery into Changes; funnel.ingest applies them. Statuses are
ranked so that an older or lower-ranked report never overwrites a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

CART_UPDATED = "cart_updated"
CHECKOUT_STARTED = "checkout_started"
ORDER_CREATED = "order_created"
ORDER_PAID = "order_paid"
ORDER_CANCELLED = "order_cancelled"
REFUNDED = "refunded"
SHIPPED = "shipped"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
READY_FOR_PICKUP = "ready_for_pickup"
DELIVERED = "delivered"
DELIVERY_FAILED = "delivery_failed"
RETURNED = "returned"

CART_EVENTS = (CART_UPDATED, CHECKOUT_STARTED)
ORDER_EVENTS = (ORDER_CREATED, ORDER_PAID, ORDER_CANCELLED, REFUNDED)
SHIPMENT_EVENTS = (
    SHIPPED, IN_TRANSIT, OUT_FOR_DELIVERY, READY_FOR_PICKUP, DELIVERED, DELIVERY_FAILED, RETURNED,
)  # fmt: skip
EVENT_TYPES = (*CART_EVENTS, *ORDER_EVENTS, *SHIPMENT_EVENTS)

# A shipment's states. Equal ranks are ordered by the source's time; a failed attempt ranks with
# "out for delivery" so that the next attempt or the pickup point still moves it on.
CREATED = "created"
CANCELLED = "cancelled"
SHIPMENT_RANK = {
    CREATED: 0,
    SHIPPED: 1,
    IN_TRANSIT: 2,
    OUT_FOR_DELIVERY: 3,
    READY_FOR_PICKUP: 3,
    DELIVERY_FAILED: 3,
    DELIVERED: 4,
    RETURNED: 5,
    CANCELLED: 5,
}

# An order's states: a payment, a cancellation or a refund is never undone by an older report.
PENDING = "pending"
PAID = "paid"
ORDER_RANK = {PENDING: 0, PAID: 1, CANCELLED: 2, REFUNDED: 3}

# A cart is open (or at checkout) until it is completed or emptied; both end it.
OPEN = "open"
CHECKOUT = "checkout"
COMPLETED = "completed"
EMPTIED = "emptied"
CART_RANK = {OPEN: 0, CHECKOUT: 0, COMPLETED: 1, EMPTIED: 1}

Entity = Literal["cart", "order", "shipment"]


def supersedes(
    ranks: dict[str, int], new: str, new_at: datetime, old: str, old_at: datetime
) -> bool:
    """Whether a reported state replaces the stored one: higher rank, or same rank and newer."""
    return (ranks[new], new_at) > (ranks[old], old_at)


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    quantity: int
    price: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """How a shop's record may point at a Telegram customer: a token the bot issued, a phone
    (E.164). An e-mail is deliberately absent: anyone can type anyone's address."""

    link_token: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Happening:
    """A normalized event about the entity of its Change; key makes it count once."""

    type: str
    occurred_at: datetime
    key: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CartFacts:
    platform: str
    token: str
    status: str
    created_at: datetime
    updated_at: datetime
    checkout_token: str | None = None
    identity: Identity = Identity()
    amount: str | None = None
    currency: str | None = None
    checkout_url: str | None = None
    items: tuple[Item, ...] = ()
    reserved_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    platform: str
    platform_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    number: str | None = None
    cart_token: str | None = None
    checkout_token: str | None = None
    identity: Identity = Identity()
    amount: str | None = None
    currency: str | None = None
    items: tuple[Item, ...] = ()
    payment_method: str | None = None
    cash_on_delivery: bool = False
    paid_at: datetime | None = None
    pickup_point: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    """ref is the tracking number when there is one, so every platform's report of the same
    parcel lands on the same shipment; order_ref is the shop's order id or number."""

    ref: str
    status: str
    status_at: datetime
    order_ref: str | None = None
    identity: Identity = Identity()
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    pickup_point: str | None = None
    storage_until: datetime | None = None
    cod_amount: str | None = None
    cod_currency: str | None = None


Facts = CartFacts | OrderFacts | ShipmentFacts
F = TypeVar("F", CartFacts, OrderFacts, ShipmentFacts)


@dataclass(frozen=True, slots=True)
class Change:
    """One entity as a delivery describes it, and the events the delivery means for it."""

    facts: Facts
    events: tuple[Happening, ...] = ()


def entity_of(facts: Facts) -> Entity:
    if isinstance(facts, CartFacts):
        return "cart"
    if isinstance(facts, OrderFacts):
        return "order"
    return "shipment"


def shipment_ref(tracking_number: str) -> str:
    """Tracking numbers compare without spaces and case, as carriers print them differently."""
    return "".join(tracking_number.split()).upper()


@dataclass(frozen=True, slots=True)
class Stored(Generic[F]):
    """An entity as kept: its row id, the customer once linked, and what is known of it."""

    id: int
    customer_id: int | None
    facts: F
    order_id: int | None = None
