"""Delivery-status messages: the rules from the funnel file and the decisions they make.

Pure, like funnel.nudges: which statuses are told and how urgently, a parcel's storage
deadline at the pickup point, and when the pickup reminders go.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from funnel import commerce as c
from funnel.durations import Duration, duration

Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]

# The statuses a message can be about; "created" (a label exists) tells the customer nothing.
TOLD_STATUSES = (c.SHIPPED, c.IN_TRANSIT, c.OUT_FOR_DELIVERY, c.READY_FOR_PICKUP, c.DELIVERED,
                 c.DELIVERY_FAILED, c.RETURNED, c.CANCELLED)  # fmt: skip
# After these nothing more happens to the parcel: pickup reminders stop.
FINAL_STATUSES = frozenset({c.DELIVERED, c.RETURNED, c.CANCELLED})
# Their texts can name these; {cod} is the cash-on-delivery amount with its currency.
PARCEL_PLACEHOLDERS = frozenset(
    {"carrier", "tracking_number", "tracking_url", "pickup_point", "storage_until", "cod"}
)


class DeliveryRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # One text per status and language; a status without one is not told.
    messages: dict[str, dict[Language, str]] = {}
    # The reminder while a parcel waits at a pickup point.
    pickup_reminder: dict[Language, str] = {}
    # Added on a new line while an amount is to be paid on delivery (it can name {cod}).
    cod_note: dict[Language, str] = {}
    # Sent at once whatever the hour; every other status waits for the end of quiet hours.
    urgent: list[str] = [c.OUT_FOR_DELIVERY, c.READY_FOR_PICKUP]
    # Reminders while a parcel waits at a pickup point: this long before the storage deadline,
    # and on the morning of its last day (at the end of quiet hours in the customer's zone).
    pickup_reminders: list[Duration] = ["2d", "1d"]
    pickup_last_morning: bool = True
    # Days a carrier keeps a parcel when its report names no deadline ("default" for the rest).
    storage_days: dict[str, Annotated[int, Field(ge=1, le=90)]] = {"default": 7}
    # Carriers as the customer reads their names (the stored name otherwise).
    carrier_names: dict[str, str] = {}
    # Statuses the admins are alerted about.
    alert_on: list[str] = [c.RETURNED, c.DELIVERY_FAILED]

    def told(self, status: str) -> bool:
        return status in self.messages

    def quiet(self, status: str) -> bool:
        """Whether a message about the status waits for the end of quiet hours."""
        return status not in self.urgent


def storage_deadline(
    storage_until: datetime | None, ready_at: datetime, carrier: str | None, rules: DeliveryRules
) -> datetime:
    """The carrier's own deadline when it sent one; otherwise its usual storage days."""
    if storage_until is not None:
        return storage_until
    days = rules.storage_days.get(carrier or "", rules.storage_days.get("default", 7))
    return ready_at + timedelta(days=days)


def pickup_times(
    deadline: datetime, now: datetime, rules: DeliveryRules, zone: ZoneInfo, morning: time
) -> list[datetime]:
    """When to remind about a parcel waiting at a pickup point: each offset before the deadline
    and the last day's morning, those still ahead and before the deadline, in order."""
    times = {deadline - duration(offset) for offset in rules.pickup_reminders}
    if rules.pickup_last_morning:
        last_day = deadline.astimezone(zone).date()
        times.add(datetime.combine(last_day, morning, zone))
    return sorted(t for t in times if now < t < deadline)


def cod_due(
    cod_amount: str | None, order_cod: bool, order_paid: bool, order_amount: str | None
) -> str | None:
    """The amount to pay on delivery: the carrier's, else an unpaid cash-on-delivery order's."""
    if cod_amount is not None:
        return cod_amount
    return order_amount if order_cod and not order_paid else None


def carrier_name(carrier: str | None, rules: DeliveryRules) -> str:
    if carrier is None:
        return ""
    return rules.carrier_names.get(carrier, carrier)
