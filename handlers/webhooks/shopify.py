"""Shopify: X-Shopify-Hmac-Sha256 over the raw body, one delivery id per X-Shopify-Webhook-Id,
and the REST resources of carts, checkouts, orders, refunds and fulfillments as Changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from funnel import commerce as c
from funnel.commerce import (
    CartFacts,
    Change,
    Happening,
    Identity,
    Item,
    OrderFacts,
    ShipmentFacts,
    shipment_ref,
)
from funnel.events import epoch_ms
from handlers.webhooks.common import (
    LINK_FIELDS,
    Envelope,
    Model,
    Refused,
    Unparseable,
    base64_hmac_valid,
    first_problem,
    header,
    json_object,
    link_token_in,
    money,
    phone_of,
    shorten,
)

PLATFORM = "shopify"
CART_TOPICS = ("carts/create", "carts/update")
CHECKOUT_TOPICS = ("checkouts/create", "checkouts/update")
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")
TOPICS = (*CART_TOPICS, *CHECKOUT_TOPICS, *ORDER_TOPICS, *FULFILLMENT_TOPICS, "refunds/create")
_PAID = ("paid", "partially_refunded", "refunded")
# REST shipment_status values (lower-case FulfillmentEventStatus) and what they mean here.
SHIPMENT_STATUS = {
    None: c.SHIPPED,
    "confirmed": c.SHIPPED,
    "label_printed": c.SHIPPED,
    "label_purchased": c.SHIPPED,
    "carrier_picked_up": c.SHIPPED,
    "in_transit": c.IN_TRANSIT,
    "delayed": c.IN_TRANSIT,
    "out_for_delivery": c.OUT_FOR_DELIVERY,
    "ready_for_pickup": c.READY_FOR_PICKUP,
    "picked_up": c.DELIVERED,
    "delivered": c.DELIVERED,
    "attempted_delivery": c.DELIVERY_FAILED,
    "failure": c.DELIVERY_FAILED,
}


class Money(Model):
    amount: str
    currency_code: str


class PriceSet(Model):
    shop_money: Money


class NameValue(Model):
    name: str
    value: Any = None


class LineItem(Model):
    title: str | None = None
    name: str | None = None
    quantity: int = 1
    price: str | float | None = None
    line_price: str | float | None = None
    price_set: PriceSet | None = None
    # A dict on carts, a list of {name, value} on checkouts and orders.
    properties: dict[str, Any] | list[NameValue] | None = None


class Address(Model):
    phone: str | None = None
    country_code: str | None = None


class Buyer(Model):
    phone: str | None = None


class Cart(Model):
    token: str
    created_at: datetime
    updated_at: datetime
    note: str | None = None
    line_items: tuple[LineItem, ...] = ()


class Checkout(Model):
    token: str
    cart_token: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    currency: str | None = None
    total_price: str | None = None
    abandoned_checkout_url: str | None = None
    phone: str | None = None
    note: str | None = None
    note_attributes: tuple[NameValue, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    customer: Buyer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None


class RefundTransaction(Model):
    kind: str | None = None
    status: str | None = None
    amount: str | None = None
    currency: str | None = None


class Refund(Model):
    id: int
    order_id: int
    created_at: datetime
    transactions: tuple[RefundTransaction, ...] = ()


class Order(Model):
    id: int
    name: str | None = None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    financial_status: str | None = None
    cart_token: str | None = None
    checkout_token: str | None = None
    currency: str | None = None
    total_price: str | None = None
    phone: str | None = None
    note: str | None = None
    note_attributes: tuple[NameValue, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    payment_gateway_names: tuple[str, ...] = ()
    refunds: tuple[Refund, ...] = ()
    customer: Buyer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None


class Fulfillment(Model):
    id: int
    order_id: int
    status: str | None = None
    updated_at: datetime
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipment_status: str | None = None


def verify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> bool:
    return base64_hmac_valid(header(headers, "X-Shopify-Hmac-Sha256"), body, secrets)


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    topic = header(headers, "X-Shopify-Topic")
    if topic not in TOPICS:
        raise Refused(400, f"unknown topic {shorten(topic, 60)!r}")
    delivery_id = header(headers, "X-Shopify-Webhook-Id") or header(headers, "shopify-webhook-id")
    if not delivery_id:
        raise Refused(400, "X-Shopify-Webhook-Id is missing")
    payload = json_object(body)
    needed = "token" if topic in CART_TOPICS + CHECKOUT_TOPICS else "id"
    if needed not in payload:
        raise Refused(422, f"the {topic} body needs its {needed!r}")
    return Envelope(shorten(delivery_id, 100), topic)


def parse(topic: str, body: bytes, region: str) -> list[Change]:
    parsers: dict[str, Callable[[bytes, str], list[Change]]] = {
        **dict.fromkeys(CART_TOPICS, _cart),
        **dict.fromkeys(CHECKOUT_TOPICS, _checkout),
        **dict.fromkeys(ORDER_TOPICS, _order),
        **dict.fromkeys(FULFILLMENT_TOPICS, _fulfillment),
        "refunds/create": _refund,
    }
    if topic not in parsers:
        raise Unparseable(f"unknown Shopify topic {topic!r}")
    try:
        return parsers[topic](body, region)
    except ValidationError as error:
        raise Unparseable(f"{topic}: {first_problem(error)}") from error


def _items(lines: Sequence[LineItem]) -> tuple[Item, ...]:
    return tuple(
        Item(line.name or line.title or "?", line.quantity, money(line.price)) for line in lines
    )


def _token(
    attributes: Sequence[NameValue], lines: Sequence[LineItem], note: str | None
) -> str | None:
    values: list[object] = [a.value for a in attributes if a.name in LINK_FIELDS]
    for line in lines:
        if isinstance(line.properties, dict):
            values.extend(v for k, v in line.properties.items() if k in LINK_FIELDS)
        elif line.properties:
            values.extend(p.value for p in line.properties if p.name in LINK_FIELDS)
    return link_token_in([*values, note])


def _phone(
    first: str | None, buyer: Buyer | None, addresses: Sequence[Address | None], region: str
) -> str | None:
    candidates: list[tuple[str | None, str | None]] = [(first, None)]
    candidates.append((buyer.phone if buyer else None, None))
    candidates += [(a.phone, a.country_code) for a in addresses if a is not None]
    return phone_of(candidates, region)


def _cart(body: bytes, region: str) -> list[Change]:
    cart = Cart.model_validate_json(body)
    totals = [Decimal(money(line.line_price) or "0") for line in cart.line_items]
    currencies = [line.price_set.shop_money.currency_code for line in cart.line_items
                  if line.price_set is not None]  # fmt: skip
    facts = CartFacts(
        platform=PLATFORM,
        token=cart.token,
        status=c.OPEN if cart.line_items else c.EMPTIED,
        created_at=cart.created_at,
        updated_at=cart.updated_at,
        identity=Identity(_token([], cart.line_items, cart.note)),
        amount=str(sum(totals, Decimal(0))) if cart.line_items else None,
        currency=currencies[0] if currencies else None,
        items=_items(cart.line_items),
    )
    happening = Happening(
        c.CART_UPDATED,
        cart.updated_at,
        f"{PLATFORM}:cart:{cart.token}:{epoch_ms(cart.updated_at)}",
        {"amount": facts.amount, "currency": facts.currency, "items": len(facts.items)},
    )
    return [Change(facts, (happening,))]


def _checkout(body: bytes, region: str) -> list[Change]:
    checkout = Checkout.model_validate_json(body)
    completed = checkout.completed_at is not None
    facts = CartFacts(
        platform=PLATFORM,
        token=checkout.cart_token or checkout.token,
        checkout_token=checkout.token,
        status=c.COMPLETED if completed else c.CHECKOUT,
        created_at=checkout.created_at,
        updated_at=checkout.updated_at,
        identity=Identity(
            _token(checkout.note_attributes, checkout.line_items, checkout.note),
            _phone(
                checkout.phone,
                checkout.customer,
                [checkout.shipping_address, checkout.billing_address],
                region,
            ),
        ),
        amount=money(checkout.total_price),
        currency=checkout.currency,
        checkout_url=checkout.abandoned_checkout_url,
        items=_items(checkout.line_items),
    )
    if completed:
        return [Change(facts)]  # the order topics carry the conversion
    details = {"amount": facts.amount, "currency": facts.currency}
    key = f"{PLATFORM}:checkout:{checkout.token}"
    happenings = [
        Happening(c.CHECKOUT_STARTED, checkout.created_at,
                  f"{key}:started", details),
        Happening(c.CART_UPDATED, checkout.updated_at, f"{key}:{epoch_ms(checkout.updated_at)}",
                  details),
    ]  # fmt: skip
    if checkout.updated_at == checkout.created_at:
        happenings.pop()  # a new checkout is the start, not also an update
    return [Change(facts, tuple(happenings))]


def _order_status(order: Order) -> str:
    if order.financial_status == "refunded":
        return c.REFUNDED
    if order.cancelled_at is not None:
        return c.CANCELLED
    return c.PAID if order.financial_status in _PAID else c.PENDING


def _order(body: bytes, region: str) -> list[Change]:
    order = Order.model_validate_json(body)
    status = _order_status(order)
    paid = order.financial_status in _PAID
    paid_at = (order.processed_at or order.created_at) if paid else None
    if paid and order.updated_at > order.created_at and order.financial_status == "paid":
        paid_at = order.updated_at  # captured or marked paid after the order was placed
    cod = any("cash on delivery" in g.lower() or g.lower() == "cod"
              for g in order.payment_gateway_names)  # fmt: skip
    facts = OrderFacts(
        platform=PLATFORM,
        platform_id=str(order.id),
        number=order.name,
        status=status,
        created_at=order.created_at,
        updated_at=order.updated_at,
        cart_token=order.cart_token,
        checkout_token=order.checkout_token,
        identity=Identity(
            _token(order.note_attributes, order.line_items, order.note),
            _phone(
                order.phone,
                order.customer,
                [order.shipping_address, order.billing_address],
                region,
            ),
        ),
        amount=money(order.total_price),
        currency=order.currency,
        items=_items(order.line_items),
        payment_method=", ".join(order.payment_gateway_names) or None,
        cash_on_delivery=cod,
        paid_at=paid_at,
    )
    details = {"order": order.name or str(order.id), "amount": facts.amount,
               "currency": facts.currency}  # fmt: skip
    key = f"{PLATFORM}:order:{order.id}"
    happenings = [Happening(c.ORDER_CREATED, order.created_at, f"{key}:created", details)]
    if paid_at is not None:
        happenings.append(Happening(c.ORDER_PAID, paid_at, f"{key}:paid", details))
    if order.cancelled_at is not None:
        happenings.append(Happening(c.ORDER_CANCELLED, order.cancelled_at, f"{key}:cancelled",
                                    {**details, "reason": order.cancel_reason}))  # fmt: skip
    happenings.extend(_refunded(refund) for refund in order.refunds)
    return [Change(facts, tuple(happenings))]


def _refunded(refund: Refund) -> Happening:
    done = [t for t in refund.transactions if t.kind == "refund" and t.status != "failure"]
    amount = sum((Decimal(money(t.amount) or "0") for t in done), Decimal(0))
    currency = next((t.currency for t in done if t.currency), None)
    return Happening(
        c.REFUNDED,
        refund.created_at,
        f"{PLATFORM}:refund:{refund.id}",
        {"order": str(refund.order_id), "amount": str(amount), "currency": currency},
    )


def _refund(body: bytes, region: str) -> list[Change]:
    refund = Refund.model_validate_json(body)
    # Only the order's id is known here: a pending status never outranks what is stored.
    facts = OrderFacts(
        platform=PLATFORM,
        platform_id=str(refund.order_id),
        status=c.PENDING,
        created_at=refund.created_at,
        updated_at=refund.created_at,
    )
    return [Change(facts, (_refunded(refund),))]


def _fulfillment(body: bytes, region: str) -> list[Change]:
    fulfillment = Fulfillment.model_validate_json(body)
    if fulfillment.status == "cancelled":
        status = c.CANCELLED
    elif fulfillment.shipment_status in SHIPMENT_STATUS:
        status = SHIPMENT_STATUS[fulfillment.shipment_status]
    else:
        raise Unparseable(f"unknown shipment_status {fulfillment.shipment_status!r}")
    number = fulfillment.tracking_number
    ref = shipment_ref(number) if number else f"{PLATFORM}:fulfillment:{fulfillment.id}"
    facts = ShipmentFacts(
        ref=ref,
        status=status,
        status_at=fulfillment.updated_at,
        order_ref=str(fulfillment.order_id),
        carrier=fulfillment.tracking_company,
        tracking_number=number,
        tracking_url=fulfillment.tracking_url,
    )
    if status == c.CANCELLED:
        return [Change(facts)]
    happening = Happening(
        status, fulfillment.updated_at, f"shipment:{ref}:{status}",
        {"carrier": fulfillment.tracking_company, "tracking_number": number},
    )  # fmt: skip
    return [Change(facts, (happening,))]
