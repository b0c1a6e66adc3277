"""What delivery-status messages and the stale-parcel check need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from funnel.commerce import ShipmentFacts, Stored


@dataclass(frozen=True, slots=True)
class DeliveredSpan:
    """A delivered parcel: its first report from the carrier and its delivery, in ms."""

    first_ms: int
    delivered_ms: int


class ParcelTransaction(Protocol):
    async def shipment_by_id(self, shipment_id: int) -> Stored[ShipmentFacts] | None: ...

    async def parcel_told(self, shipment_id: int, kind: str, status: str) -> bool: ...

    async def note_parcel(
        self, shipment_id: int, kind: str, status: str, outbox_id: int | None, now_ms: int
    ) -> bool:
        """Keep that the parcel's status was told (or alerted); False when it already was."""
        ...

    async def stale_parcels(self, ref_prefix: str, before_ms: int, limit: int) -> list[str]:
        """Refs of parcels not yet final whose status and last poll are older than the moment,
        the longest-standing first."""
        ...

    async def mark_polled(self, refs: list[str], now_ms: int) -> None: ...

    async def shipment_statuses(self, since_ms: int) -> dict[str, int]:
        """Parcels first reported since the moment, counted by current status."""
        ...

    async def delivered_spans(self, since_ms: int) -> list[DeliveredSpan]: ...

    async def waiting_at_pickup(self) -> list[Stored[ShipmentFacts]]: ...
