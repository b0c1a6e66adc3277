"""What a delivery sets in motion: for each cart, order and parcel it touched, a job that
looks at it again with the rules of the funnel file (the jobs know the rules; ingest does not).
"""

from __future__ import annotations

from collections.abc import Iterable

from funnel.abandonment import CART_IDLE_JOB, ORDER_PLACED_JOB
from funnel.commerce import Entity
from funnel.events import epoch_ms
from funnel.relay import SHIPMENT_CHANGED_JOB
from funnel.store.base import FunnelTransaction


async def watch(
    tx: FunnelTransaction,
    linked: Iterable[tuple[Entity, int]],
    shipments: Iterable[int],
    now_ms: int,
) -> None:
    """A linked cart: check it once it has been idle long enough. A linked order: see what it
    ends and recovers. A parcel, linked or not (the admins hear of a return either way): relay
    its status."""
    parcels = set(shipments)
    for entity, entity_id in linked:
        if entity == "cart":
            cart = await tx.cart_by_id(entity_id)
            if cart is not None:
                due = max(epoch_ms(cart.facts.updated_at), now_ms)
                payload = {"cart_id": entity_id}
                await tx.schedule(CART_IDLE_JOB, f"cart:{entity_id}:idle", due, payload)
        elif entity == "order":
            payload = {"order_id": entity_id}
            await tx.schedule(ORDER_PLACED_JOB, f"order:{entity_id}:placed", now_ms, payload)
        else:
            parcels.add(entity_id)
    for shipment_id in sorted(parcels):
        payload = {"shipment_id": shipment_id}
        await tx.schedule(SHIPMENT_CHANGED_JOB, f"shipment:{shipment_id}", now_ms, payload)
