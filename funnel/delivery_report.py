"""What happened to the parcels: how many are where, the buy-out and return rates, the time
from the first scan to delivery, and who is still to collect a parcel, by when."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from funnel import commerce as c
from funnel.commerce import ShipmentFacts, Stored
from funnel.parcels import DeliveryRules, carrier_name, storage_deadline
from funnel.store.base import FunnelTransaction

DAY_MS = 86_400_000
WAITING_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Waiting:
    parcel: str
    carrier: str
    pickup_point: str
    deadline: datetime
    linked: bool


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    days: int
    statuses: dict[str, int]
    median_days: float | None
    waiting: list[Waiting]

    @property
    def finished(self) -> int:
        return self.statuses.get(c.DELIVERED, 0) + self.statuses.get(c.RETURNED, 0)

    def rate(self, status: str) -> float | None:
        """The share of parcels that ended (delivered or returned) that ended so."""
        return None if self.finished == 0 else self.statuses.get(status, 0) / self.finished


async def delivery_report(
    tx: FunnelTransaction, rules: DeliveryRules, since_ms: int, days: int
) -> DeliveryReport:
    spans = await tx.delivered_spans(since_ms)
    median = (
        statistics.median((s.delivered_ms - s.first_ms) / DAY_MS for s in spans) if spans else None
    )
    waiting = [_waiting(s, rules) for s in await tx.waiting_at_pickup()]
    waiting.sort(key=lambda w: w.deadline)
    return DeliveryReport(days, await tx.shipment_statuses(since_ms), median, waiting)


def _waiting(shipment: Stored[ShipmentFacts], rules: DeliveryRules) -> Waiting:
    facts = shipment.facts
    return Waiting(
        parcel=facts.tracking_number or facts.ref,
        carrier=carrier_name(facts.carrier, rules),
        pickup_point=facts.pickup_point or "",
        deadline=storage_deadline(facts.storage_until, facts.status_at, facts.carrier, rules),
        linked=shipment.customer_id is not None,
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def summary_text(report: DeliveryReport) -> str:
    total = sum(report.statuses.values())
    lines = [f"{status:<17} {count:>6}" for status, count in report.statuses.items()]
    lines.append(f"{'all':<17} {total:>6}")
    lines += [
        "",
        f"delivered (buy-out) {_percent(report.rate(c.DELIVERED)):>8}   of {report.finished}"
        " that ended",
        f"returned            {_percent(report.rate(c.RETURNED)):>8}",
        "first scan to delivery: "
        + ("—" if report.median_days is None else f"median {report.median_days:.1f} days"),
    ]
    return "\n".join(lines)


def waiting_text(report: DeliveryReport, now: datetime) -> str:
    if not report.waiting:
        return "no parcel is waiting at a pickup point"
    lines = []
    for item in report.waiting[:WAITING_SHOWN]:
        left = (item.deadline - now).total_seconds() / 86_400
        due = "overdue" if left < 0 else f"{left:.1f} d left"
        who = "" if item.linked else "  (not in the bot)"
        lines.append(f"{item.parcel}  {item.carrier}  {item.pickup_point}")
        lines.append(f"  until {item.deadline:%Y-%m-%d %H:%M} UTC, {due}{who}")
    if len(report.waiting) > WAITING_SHOWN:
        lines.append(f"… and {len(report.waiting) - WAITING_SHOWN} more")
    return "\n".join(lines)
