"""Relaying a parcel's moves to its customer: each status once, never backwards, with pickup
reminders while it waits, and alerts to the admins when it fails or comes back.

Runs as a scheduled job whenever a delivery touched a shipment, inside one unit of work. It
looks only at the shipment's current status, which the merge keeps monotonic (rank, then the
carrier's own time): an older or lower report never becomes current, so it is never told, and a
customer linked late hears the current status once, not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from funnel import commerce as c
from funnel.commerce import ShipmentFacts, Stored
from funnel.customers import local_zone
from funnel.events import epoch_ms
from funnel.outbox import TRANSACTIONAL, Intent
from funnel.parcels import (
    FINAL_STATUSES,
    DeliveryRules,
    carrier_name,
    pickup_times,
    storage_deadline,
)
from funnel.store.base import FunnelTransaction

SHIPMENT_CHANGED_JOB = "shipment_changed"
STATUS_TEMPLATE = "parcel.status"
PICKUP_TEMPLATE = "parcel.pickup"
STATUS, ALERT = "status", "alert"


def status_key(shipment_id: int) -> str:
    return f"parcel:{shipment_id}"


def pickup_key(shipment_id: int) -> str:
    return f"pickup:{shipment_id}"


@dataclass(frozen=True, slots=True)
class Relayed:
    """What one look at a shipment did: messages enqueued, and an alert for the admins."""

    enqueued: int = 0
    alert: str | None = None


class ParcelRelay:
    def __init__(self, rules: DeliveryRules, shop_zone: ZoneInfo, morning: time) -> None:
        self._rules = rules
        self._shop_zone = shop_zone
        # The end of quiet hours: when the last day's pickup reminder goes.
        self._morning = morning

    async def shipment_changed(
        self, tx: FunnelTransaction, shipment_id: int, now: datetime
    ) -> Relayed:
        shipment = await tx.shipment_by_id(shipment_id)
        if shipment is None:
            return Relayed()
        facts, now_ms = shipment.facts, epoch_ms(now)
        status = facts.status
        alert = None
        if status in self._rules.alert_on and await tx.note_parcel(
            shipment_id, ALERT, status, None, now_ms
        ):
            alert = _alert_text(facts, carrier_name(facts.carrier, self._rules))
        if status in FINAL_STATUSES:
            await tx.cancel(pickup_key(shipment_id), f"the parcel is {status}", now_ms)
        if shipment.customer_id is None or not self._rules.told(status):
            return Relayed(alert=alert)
        if await tx.parcel_told(shipment_id, STATUS, status):
            return Relayed(alert=alert)
        # Whatever waits about an earlier status (a night's wait) is stale now.
        await tx.cancel(status_key(shipment_id), "the parcel moved on", now_ms)
        row = await tx.enqueue(
            Intent(
                customer_id=shipment.customer_id, template=STATUS_TEMPLATE, kind=TRANSACTIONAL,
                not_before=now, variables={"shipment_id": shipment_id, "status": status},
                dedupe_key=f"parcel:{shipment_id}:{status}", cancel_key=status_key(shipment_id),
                quiet_hours=self._rules.quiet(status), shipment=(shipment_id, status),
            ),
            now_ms,
        )  # fmt: skip
        await tx.note_parcel(shipment_id, STATUS, status, row, now_ms)
        enqueued = 1
        if status == c.READY_FOR_PICKUP:
            enqueued += await self._pickup_reminders(tx, shipment, shipment.customer_id, now)
        return Relayed(enqueued, alert)

    async def _pickup_reminders(
        self, tx: FunnelTransaction, shipment: Stored[ShipmentFacts], customer_id: int,
        now: datetime,
    ) -> int:  # fmt: skip
        customer = await tx.customer_by_id(customer_id)
        if customer is None or not self._rules.pickup_reminder:
            return 0
        shipment_id, facts = shipment.id, shipment.facts
        deadline = storage_deadline(facts.storage_until, facts.status_at, facts.carrier,
                                    self._rules)  # fmt: skip
        zone = local_zone(customer.time_zone, self._shop_zone)
        times = pickup_times(deadline, now, self._rules, zone, self._morning)
        for number, moment in enumerate(times):
            await tx.enqueue(
                Intent(
                    customer_id=customer_id, template=PICKUP_TEMPLATE, kind=TRANSACTIONAL,
                    not_before=moment, expires_at=deadline,
                    variables={"shipment_id": shipment_id, "deadline_ms": epoch_ms(deadline)},
                    dedupe_key=f"pickup:{shipment_id}:{epoch_ms(deadline)}:{number}",
                    cancel_key=pickup_key(shipment_id),
                    shipment=(shipment_id, c.READY_FOR_PICKUP),
                ),
                epoch_ms(now),
            )  # fmt: skip
        return len(times)


def _alert_text(facts: c.ShipmentFacts, carrier: str) -> str:
    parcel = facts.tracking_number or facts.ref
    order = f", order {facts.order_ref}" if facts.order_ref else ""
    what = {c.RETURNED: "is going back to the shop", c.DELIVERY_FAILED: "could not be delivered"}
    happened = what.get(facts.status, f"is now {facts.status}")
    when = facts.status_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Parcel {parcel} ({carrier or 'carrier unknown'}{order}) {happened} ({when})."
