"""CDEK: no signature, so a secret path segment; ORDER_STATUS codes become shipment statuses.

A parcel is known by CDEK's uuid. A return parcel names its original in related_entities, and
whatever happens to it means the original came back: it is never "delivered" to the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import ValidationError

from funnel import commerce as c
from funnel.commerce import Change, Happening, ShipmentFacts
from handlers.webhooks.common import (
    Envelope,
    Model,
    Refused,
    Unparseable,
    first_problem,
    json_object,
    shorten,
)

PLATFORM = "cdek"
ORDER_STATUS = "ORDER_STATUS"
CARRIER = "cdek"
TRACKING_URL = "https://www.cdek.ru/ru/tracking?order_id={number}"

_SHIPPED = ("RECEIVED_AT_SHIPMENT_WAREHOUSE", "READY_FOR_SHIPMENT_IN_SENDER_CITY",
            "READY_TO_SHIP_AT_SENDING_OFFICE", "PASSED_TO_CARRIER_AT_SENDING_OFFICE")  # fmt: skip
_IN_TRANSIT = (
    "READY_FOR_SHIPMENT_IN_TRANSIT_CITY", "RETURNED_TO_SENDER_CITY_WAREHOUSE",
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY", "SENT_TO_TRANSIT_CITY", "ACCEPTED_IN_TRANSIT_CITY",
    "ACCEPTED_AT_TRANSIT_WAREHOUSE", "RETURNED_TO_TRANSIT_WAREHOUSE",
    "READY_TO_SHIP_IN_TRANSIT_OFFICE", "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY",
    "SENT_TO_SENDER_CITY", "SENT_TO_RECIPIENT_CITY", "ACCEPTED_IN_SENDER_CITY",
    "ACCEPTED_IN_RECIPIENT_CITY", "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE",
    "IN_CUSTOMS_INTERNATIONAL", "SHIPPED_TO_DESTINATION", "PASSED_TO_TRANSIT_CARRIER",
    "IN_CUSTOMS_LOCAL", "CUSTOMS_COMPLETE", "SEND_TO_TRANSIT_OFFICE", "SEND_TO_RECIPIENT_OFFICE",
    "MET_AT_TRANSIT_OFFICE", "MET_AT_RECIPIENT_OFFICE", "ENTERED_TO_OFFICE_TRANSIT_WAREHOUSE",
    "ENTERED_TO_DELIVERY_WAREHOUSE", "ENTERED_TO_WAREHOUSE_ON_DEMAND",
)  # fmt: skip
CODE_STATUS = {
    **dict.fromkeys(_SHIPPED, c.SHIPPED),
    **dict.fromkeys(_IN_TRANSIT, c.IN_TRANSIT),
    "TAKEN_BY_COURIER": c.OUT_FOR_DELIVERY,
    "ACCEPTED_AT_PICK_UP_POINT": c.READY_FOR_PICKUP,
    "POSTOMAT_POSTED": c.READY_FOR_PICKUP,
    "DELIVERED": c.DELIVERED,
    "POSTOMAT_RECEIVED": c.DELIVERED,
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE": c.DELIVERY_FAILED,
    "NOT_DELIVERED": c.RETURNED,
    "POSTOMAT_SEIZED": c.RETURNED,
    "REMOVED": c.CANCELLED,
}
# Registration and validation tell the customer nothing.
SILENT_CODES = ("ACCEPTED", "CREATED", "INVALID")


class Related(Model):
    type: str
    uuid: str


class Attributes(Model):
    code: str
    is_return: bool = False
    cdek_number: str | None = None
    number: str | None = None
    status_reason_code: str | None = None
    status_date_time: datetime
    city_name: str | None = None
    related_entities: tuple[Related, ...] = ()


class Notification(Model):
    type: str
    uuid: str
    attributes: Attributes


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    payload = json_object(body)
    if payload.get("type") != ORDER_STATUS:
        raise Refused(400, f"unknown type {shorten(str(payload.get('type')), 60)!r}")
    attributes = payload.get("attributes")
    if not isinstance(payload.get("uuid"), str) or not isinstance(attributes, dict):
        raise Refused(422, "uuid and attributes are required")
    code, moment = attributes.get("code"), attributes.get("status_date_time")
    if not isinstance(code, str) or not isinstance(moment, str):
        raise Refused(422, "attributes.code and attributes.status_date_time are required")
    # CDEK sends no delivery id: the parcel, the status and its time identify one.
    return Envelope(shorten(f"{payload['uuid']}:{code}:{moment}", 100), ORDER_STATUS)


def parse(topic: str, body: bytes, region: str) -> list[Change]:
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as error:
        raise Unparseable(f"{topic}: {first_problem(error)}") from error
    attributes = notification.attributes
    if attributes.code in SILENT_CODES:
        return []
    if attributes.code not in CODE_STATUS:
        raise Unparseable(f"unknown CDEK status code {attributes.code!r}")
    status = CODE_STATUS[attributes.code]
    uuid, number = notification.uuid, attributes.cdek_number
    if attributes.is_return:
        status = c.RETURNED
        original = next((r.uuid for r in attributes.related_entities
                         if r.type == "direct_order"), None)  # fmt: skip
        if original is not None:
            uuid, number = original, None
    ref = f"{PLATFORM}:{uuid}"
    at = attributes.status_date_time
    facts = ShipmentFacts(
        ref=ref,
        status=status,
        status_at=at,
        order_ref=attributes.number,
        carrier=CARRIER,
        tracking_number=number,
        tracking_url=TRACKING_URL.format(number=number) if number else None,
    )
    if status == c.CANCELLED:
        return [Change(facts)]
    details = {"carrier": CARRIER, "code": attributes.code, "city": attributes.city_name,
               "reason": attributes.status_reason_code}  # fmt: skip
    return [Change(facts, (Happening(status, at, f"shipment:{ref}:{status}", details),))]
