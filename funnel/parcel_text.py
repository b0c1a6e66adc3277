"""A parcel message as the customer reads it: the status's text (or the pickup reminder) with
the carrier, tracking, pickup point, storage deadline and the amount to pay on delivery."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from funnel import commerce as c
from funnel.formatting import moment, money
from funnel.parcels import FINAL_STATUSES, DeliveryRules, carrier_name, cod_due, storage_deadline
from funnel.store.base import FunnelTransaction
from funnel.templates import render


class ParcelGone(LookupError):
    """The shipment or its text is no longer there: the message cannot be written."""


async def parcel_text(
    tx: FunnelTransaction,
    rules: DeliveryRules,
    shipment_id: int,
    status: str | None,
    language: str,
    default_language: str,
    zone: ZoneInfo,
    zone_chosen: bool,
) -> str:
    """The message about the shipment in the given status, or its pickup reminder (None)."""
    shipment = await tx.shipment_by_id(shipment_id)
    variants = rules.pickup_reminder if status is None else rules.messages.get(status)
    if shipment is None or not variants:
        raise ParcelGone(f"the message about parcel {shipment_id} ({status}) is gone")
    facts = shipment.facts
    order = await tx.order_by_id(shipment.order_id) if shipment.order_id is not None else None
    o = order.facts if order is not None else None
    cod = cod_due(facts.cod_amount, bool(o and o.cash_on_delivery),
                  bool(o and o.paid_at), o.amount if o else None)  # fmt: skip
    currency = facts.cod_currency if facts.cod_amount is not None else (o.currency if o else None)
    deadline = ""
    if facts.status == c.READY_FOR_PICKUP:
        until = storage_deadline(facts.storage_until, facts.status_at, facts.carrier, rules)
        deadline = moment(until, zone, language, name_zone=not zone_chosen)
    values = {
        "carrier": carrier_name(facts.carrier, rules),
        "tracking_number": facts.tracking_number or "",
        "tracking_url": facts.tracking_url or "",
        "pickup_point": facts.pickup_point or (o.pickup_point if o else None) or "",
        "storage_until": deadline,
        "cod": money(cod, currency, language) if cod else "",
    }
    text = render(variants.get(language) or variants[default_language], values)
    told = status or c.READY_FOR_PICKUP
    if cod and rules.cod_note and told not in FINAL_STATUSES:
        note = rules.cod_note.get(language) or rules.cod_note[default_language]
        text += "\n" + render(note, values)
    return text
