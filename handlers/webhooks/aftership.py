"""AfterShip: aftership-hmac-sha256 over the raw body, deduplicated on event_id; tags and
subtags become shipment statuses (keyed on the subtag: a return arrives as an Exception that
is not the tag's first)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from funnel import commerce as c
from funnel.commerce import Change, Happening, Identity, ShipmentFacts, shipment_ref
from handlers.webhooks.common import (
    Envelope,
    Model,
    Refused,
    Unparseable,
    base64_hmac_valid,
    first_problem,
    header,
    json_object,
    phone_of,
    shorten,
)

PLATFORM = "aftership"
TRACKING_UPDATE = "tracking_update"
# Estimated-delivery revisions and pending-time notices change no status.
TOPICS = (TRACKING_UPDATE, "edd_revise", "tracking_pending_time")
TAG_STATUS = {
    "InfoReceived": c.SHIPPED,
    "InTransit": c.IN_TRANSIT,
    "OutForDelivery": c.OUT_FOR_DELIVERY,
    "AvailableForPickup": c.READY_FOR_PICKUP,
    "Delivered": c.DELIVERED,
    "AttemptFail": c.DELIVERY_FAILED,
    "Exception": c.DELIVERY_FAILED,
}
# No news yet, or no news for 30 days: nothing for the customer.
SILENT_TAGS = ("Pending", "Expired")
RETURN_SUBTAGS = ("Exception_010", "Exception_011")
COD_COLLECTED = "Delivered_004"
REFUSED = "Exception_003"


class Customer(Model):
    phone_number: str | None = None


class Tracking(Model):
    tracking_number: str
    slug: str | None = None
    tag: str
    subtag: str | None = None
    subtag_message: str | None = None
    order_id: str | None = None
    order_number: str | None = None
    courier_tracking_link: str | None = None
    pickup_location: str | dict[str, Any] | None = None
    return_to_sender: bool = False
    customers: tuple[Customer, ...] = ()


class Notification(Model):
    event: str
    event_id: str
    ts: int
    msg: Tracking


def verify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> bool:
    return base64_hmac_valid(header(headers, "aftership-hmac-sha256"), body, secrets)


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    payload = json_object(body)
    event, event_id = payload.get("event"), payload.get("event_id")
    if event not in TOPICS:
        raise Refused(400, f"unknown event {shorten(str(event), 60)!r}")
    if not isinstance(event_id, str) or not event_id:
        raise Refused(422, "event_id is missing")
    if not isinstance(payload.get("msg"), dict):
        raise Refused(422, "msg (the tracking) is missing")
    return Envelope(shorten(event_id, 100), str(event))


def parse(topic: str, body: bytes, region: str) -> list[Change]:
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as error:
        raise Unparseable(f"{topic}: {first_problem(error)}") from error
    tracking = notification.msg
    if notification.event != TRACKING_UPDATE or tracking.tag in SILENT_TAGS:
        return []
    if tracking.tag not in TAG_STATUS:
        raise Unparseable(f"unknown tag {tracking.tag!r}")
    status = TAG_STATUS[tracking.tag]
    if tracking.subtag in RETURN_SUBTAGS or tracking.return_to_sender:
        status = c.RETURNED
    at = datetime.fromtimestamp(notification.ts, UTC)
    ref = shipment_ref(tracking.tracking_number)
    facts = ShipmentFacts(
        ref=ref,
        status=status,
        status_at=at,
        order_ref=tracking.order_id or tracking.order_number,
        identity=Identity(
            phone=phone_of([(x.phone_number, None) for x in tracking.customers], region)
        ),
        carrier=tracking.slug,
        tracking_number=tracking.tracking_number,
        tracking_url=tracking.courier_tracking_link,
        pickup_point=_place(tracking.pickup_location),
    )
    details: dict[str, Any] = {"carrier": tracking.slug, "subtag": tracking.subtag,
                               "tracking_number": tracking.tracking_number}  # fmt: skip
    if tracking.subtag == COD_COLLECTED:
        details["cod_collected"] = True
    if tracking.subtag == REFUSED:
        details["refused"] = True
    return [Change(facts, (Happening(status, at, f"shipment:{ref}:{status}", details),))]


def _place(location: str | dict[str, Any] | None) -> str | None:
    """A pickup location as text; AfterShip sends a line of text or an address object."""
    if isinstance(location, dict):
        return ", ".join(str(value) for value in location.values() if value) or None
    return location
