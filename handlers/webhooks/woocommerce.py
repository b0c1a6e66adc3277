"""WooCommerce: X-WC-Webhook-Signature over the body as sent, the unsigned creation ping, and
REST v3 order objects as Changes. A cash-on-delivery order is paid when date_paid_gmt is set,
not when it is `processing`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from funnel import commerce as c
from funnel.commerce import Change, Happening, Identity, Item, OrderFacts
from funnel.events import derive_key
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
    utc,
)

PLATFORM = "woocommerce"
TOPICS = ("order.created", "order.updated")
# Statuses a shop never shows a customer: drafts of the block checkout, the bin.
IGNORED = ("checkout-draft", "draft", "auto-draft", "trash")
COD_METHODS = ("cod",)
# The official CDEK plugin keeps the chosen pickup point on the shipping line.
PICKUP_POINT_KEYS = ("_official_cdek_office_code",)


class Meta(Model):
    key: str
    value: Any = None


class LineItem(Model):
    name: str = "?"
    quantity: int = 1
    price: float | str | None = None


class ShippingLine(Model):
    method_title: str | None = None
    meta_data: tuple[Meta, ...] = ()


class Contact(Model):
    phone: str | None = None
    country: str | None = None


class Refund(Model):
    id: int
    total: str | None = None


class Order(Model):
    id: int
    number: str | None = None
    status: str
    currency: str | None = None
    total: str | None = None
    customer_note: str | None = None
    date_created_gmt: str
    date_modified_gmt: str | None = None
    date_paid_gmt: str | None = None
    payment_method: str | None = None
    payment_method_title: str | None = None
    billing: Contact | None = None
    shipping: Contact | None = None
    meta_data: tuple[Meta, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    shipping_lines: tuple[ShippingLine, ...] = ()
    refunds: tuple[Refund, ...] = ()


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """The ping sent when a webhook is saved: a form body `webhook_id=<n>` and no X-WC headers."""
    if header(headers, "X-WC-Webhook-Topic") or len(body) > 100:
        return False
    form = parse_qs(body.decode("utf-8", "replace"))
    return list(form) == ["webhook_id"] and form["webhook_id"][0].isdigit()


def verify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> bool:
    return base64_hmac_valid(header(headers, "X-WC-Webhook-Signature"), body, secrets)


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    topic = header(headers, "X-WC-Webhook-Topic")
    if topic not in TOPICS:
        raise Refused(400, f"unknown topic {shorten(topic, 60)!r}")
    payload = json_object(body)
    if "id" not in payload or "status" not in payload:
        raise Refused(422, "an order body needs its 'id' and 'status'")
    # The delivery id names one HTTP attempt; without it the body itself is the identity.
    delivery_id = header(headers, "X-WC-Webhook-Delivery-ID") or derive_key(topic, body.hex())
    return Envelope(shorten(delivery_id, 100), topic)


def parse(topic: str, body: bytes, region: str) -> list[Change]:
    if topic not in TOPICS:
        raise Unparseable(f"unknown WooCommerce topic {topic!r}")
    try:
        order = Order.model_validate_json(body)
        return _order(order, region)
    except ValidationError as error:
        raise Unparseable(f"{topic}: {first_problem(error)}") from error
    except ValueError as error:
        raise Unparseable(f"{topic}: {error}") from error


def _status(order: Order) -> str:
    if order.status == "refunded":
        return c.REFUNDED
    if order.status in ("cancelled", "failed"):
        return c.CANCELLED
    return c.PAID if order.date_paid_gmt else c.PENDING


def _order(order: Order, region: str) -> list[Change]:
    if order.status in IGNORED:
        return []
    created = utc(order.date_created_gmt)
    modified = utc(order.date_modified_gmt) if order.date_modified_gmt else created
    paid_at = utc(order.date_paid_gmt) if order.date_paid_gmt else None
    pickup = next((str(m.value) for line in order.shipping_lines for m in line.meta_data
                   if m.key in PICKUP_POINT_KEYS and m.value), None)  # fmt: skip
    contacts = [x for x in (order.shipping, order.billing) if x is not None]
    facts = OrderFacts(
        platform=PLATFORM,
        platform_id=str(order.id),
        number=order.number or str(order.id),
        status=_status(order),
        created_at=created,
        updated_at=modified,
        identity=Identity(
            link_token_in([m.value for m in order.meta_data if m.key in LINK_FIELDS]),
            phone_of([(x.phone, x.country) for x in contacts], region),
        ),
        amount=money(order.total),
        currency=order.currency,
        items=tuple(Item(i.name, i.quantity, money(i.price)) for i in order.line_items),
        payment_method=order.payment_method_title or order.payment_method,
        cash_on_delivery=order.payment_method in COD_METHODS,
        paid_at=paid_at,
        pickup_point=pickup,
    )
    details = {"order": facts.number, "amount": facts.amount, "currency": facts.currency}
    key = f"{PLATFORM}:order:{order.id}"
    happenings = [Happening(c.ORDER_CREATED, created, f"{key}:created", details)]
    if paid_at is not None:
        happenings.append(Happening(c.ORDER_PAID, paid_at, f"{key}:paid", details))
    if order.status in ("cancelled", "failed"):
        reason = "payment_failed" if order.status == "failed" else "cancelled"
        happenings.append(Happening(c.ORDER_CANCELLED, modified, f"{key}:cancelled",
                                    {**details, "reason": reason}))  # fmt: skip
    for refund in order.refunds:
        amount = money(refund.total)
        happenings.append(Happening(
            c.REFUNDED, modified, f"{key}:refund:{refund.id}",
            {**details, "amount": amount.lstrip("-") if amount else None},
        ))  # fmt: skip
    if order.status == "refunded" and not order.refunds:
        happenings.append(Happening(c.REFUNDED, modified, f"{key}:refunded", details))
    return [Change(facts, tuple(happenings))]
