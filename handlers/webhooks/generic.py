"""Our own webhook format, for any shop or site the other platforms do not cover.

One JSON object per event, in the normalized vocabulary; docs/webhooks/generic.schema.json is
generated from GenericEvent. Signed Stripe-style: `X-Funnel-Signature: t=<unix>,v1=<hex>` where
v1 is the hex HMAC-SHA256 of "<t>.<raw body>"; several v1 entries may be given while secrets
rotate, and a timestamp more than five minutes away from now is refused (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    Envelope,
    Refused,
    Unparseable,
    first_problem,
    header,
    json_object,
    phone_of,
)

PLATFORM = "generic"
SIGNATURE_HEADER = "X-Funnel-Signature"
TOLERANCE = timedelta(minutes=5)

Text = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=4)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Url = Annotated[str, Field(pattern=r"^https?://", max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenericItem(Strict):
    name: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    price: Amount | None = None


class GenericCustomer(Strict):
    """How to find the Telegram customer: a link token the bot issued, or a phone number."""

    link_token: Annotated[str, Field(pattern=r"^lt_[A-Za-z0-9]{16}$")] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


class GenericCart(Strict):
    token: Text
    checkout_url: Url | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    items: tuple[GenericItem, ...] = ()
    # When the reservation or the discount truly ends; nudges never name a later time.
    reserved_until: AwareDatetime | None = None


class GenericRefund(Strict):
    id: Text
    amount: Amount | None = None


class GenericOrder(Strict):
    id: Text
    number: Text | None = None
    cart_token: Text | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    items: tuple[GenericItem, ...] = ()
    payment_method: Text | None = None
    cash_on_delivery: bool = False
    pickup_point: Text | None = None
    refund: GenericRefund | None = None


class GenericShipment(Strict):
    tracking_number: Text
    carrier: Text | None = None
    tracking_url: Url | None = None
    order_id: Text | None = None
    pickup_point: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    storage_until: AwareDatetime | None = None
    cod_amount: Amount | None = None
    cod_currency: Currency | None = None


class GenericEvent(Strict):
    """One event from the shop: cart events carry `cart`, order events `order`, shipment
    statuses `shipment`."""

    id: Annotated[str, Field(min_length=1, max_length=100)]
    type: Literal[c.EVENT_TYPES]  # type: ignore[valid-type]
    occurred_at: AwareDatetime
    customer: GenericCustomer | None = None
    cart: GenericCart | None = None
    order: GenericOrder | None = None
    shipment: GenericShipment | None = None

    @model_validator(mode="after")
    def _entity_matches_type(self) -> GenericEvent:
        wanted = (
            "cart" if self.type in c.CART_EVENTS
            else "order" if self.type in c.ORDER_EVENTS else "shipment"
        )  # fmt: skip
        if getattr(self, wanted) is None:
            raise ValueError(f"a {self.type} event needs {wanted!r}")
        return self


def verify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime) -> bool:
    parts = [part.strip().partition("=") for part in header(headers, SIGNATURE_HEADER).split(",")]
    stamps = [value for name, _, value in parts if name == "t"]
    offered = [value.encode() for name, _, value in parts if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not offered:
        return False
    valid = False
    for secret in secrets:
        signed = stamps[0].encode() + b"." + body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
        for candidate in offered:
            valid |= hmac.compare_digest(expected, candidate)
    if valid and abs(now.timestamp() - int(stamps[0])) > TOLERANCE.total_seconds():
        raise Refused(401, "the signature's timestamp is more than 5 minutes from now")
    return valid


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    json_object(body)  # a ValueError here is answered as invalid JSON
    try:
        event = GenericEvent.model_validate_json(body)
    except ValidationError as error:
        raise Refused(422, first_problem(error)) from None
    return Envelope(event.id, event.type)


def parse(topic: str, body: bytes, region: str) -> list[Change]:
    try:
        event = GenericEvent.model_validate_json(body)
    except ValidationError as error:
        raise Unparseable(f"generic event: {first_problem(error)}") from error
    identity = Identity(
        event.customer.link_token if event.customer else None,
        phone_of([(event.customer.phone, None)], region) if event.customer else None,
    )
    if event.cart is not None and event.type in c.CART_EVENTS:
        return [_cart(event, event.cart, identity)]
    if event.order is not None and event.type in c.ORDER_EVENTS:
        return [_order(event, event.order, identity)]
    if event.shipment is not None:
        return [_shipment(event, event.shipment, identity)]
    raise Unparseable(f"a {event.type} event without its entity")


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _items(items: Sequence[GenericItem]) -> tuple[Item, ...]:
    return tuple(Item(i.name, i.quantity, _text(i.price)) for i in items)


def _cart(event: GenericEvent, cart: GenericCart, identity: Identity) -> Change:
    if event.type == c.CHECKOUT_STARTED:
        status = c.CHECKOUT
    else:
        status = c.OPEN if cart.items or cart.amount else c.EMPTIED
    facts = CartFacts(
        platform=PLATFORM, token=cart.token, status=status, created_at=event.occurred_at,
        updated_at=event.occurred_at, identity=identity, amount=_text(cart.amount),
        currency=cart.currency, checkout_url=cart.checkout_url, items=_items(cart.items),
        reserved_until=cart.reserved_until,
    )  # fmt: skip
    key = (
        f"{PLATFORM}:checkout:{cart.token}:started" if event.type == c.CHECKOUT_STARTED
        else f"{PLATFORM}:cart:{cart.token}:{epoch_ms(event.occurred_at)}"
    )  # fmt: skip
    details = {"amount": facts.amount, "currency": facts.currency}
    return Change(facts, (Happening(event.type, event.occurred_at, key, details),))


_ORDER_STATUS = {
    c.ORDER_CREATED: c.PENDING,
    c.ORDER_PAID: c.PAID,
    c.ORDER_CANCELLED: c.CANCELLED,
    c.REFUNDED: c.REFUNDED,
}


def _order(event: GenericEvent, order: GenericOrder, identity: Identity) -> Change:
    facts = OrderFacts(
        platform=PLATFORM, platform_id=order.id, number=order.number or order.id,
        status=_ORDER_STATUS[event.type], created_at=event.occurred_at,
        updated_at=event.occurred_at, cart_token=order.cart_token, identity=identity,
        amount=_text(order.amount), currency=order.currency, items=_items(order.items),
        payment_method=order.payment_method, cash_on_delivery=order.cash_on_delivery,
        paid_at=event.occurred_at if event.type == c.ORDER_PAID else None,
        pickup_point=order.pickup_point,
    )  # fmt: skip
    details: dict[str, Any] = {"order": facts.number, "amount": facts.amount,
                               "currency": facts.currency}  # fmt: skip
    suffix = event.type.removeprefix("order_")
    if event.type == c.REFUNDED:
        refund = order.refund
        suffix = f"refund:{refund.id if refund else 'full'}"
        if refund is not None and refund.amount is not None:
            details["amount"] = str(refund.amount)
    key = f"{PLATFORM}:order:{order.id}:{suffix}"
    return Change(facts, (Happening(event.type, event.occurred_at, key, details),))


def _shipment(event: GenericEvent, shipment: GenericShipment, identity: Identity) -> Change:
    ref = shipment_ref(shipment.tracking_number)
    facts = ShipmentFacts(
        ref=ref, status=event.type, status_at=event.occurred_at, order_ref=shipment.order_id,
        identity=identity, carrier=shipment.carrier, tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url, pickup_point=shipment.pickup_point,
        storage_until=shipment.storage_until, cod_amount=_text(shipment.cod_amount),
        cod_currency=shipment.cod_currency,
    )  # fmt: skip
    details = {"carrier": shipment.carrier, "tracking_number": shipment.tracking_number}
    happening = Happening(event.type, event.occurred_at, f"shipment:{ref}:{event.type}", details)
    return Change(facts, (happening,))


def schema() -> str:
    """The JSON Schema published in docs/webhooks/generic.schema.json."""
    document = GenericEvent.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "Funnel bot generic webhook event"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
