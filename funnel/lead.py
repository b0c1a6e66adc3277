"""What a customer did with lead magnets, as funnel events."""

from __future__ import annotations

from datetime import datetime

from funnel.events import Event
from funnel.ingest import identify
from funnel.magnets import Entry, Magnet
from funnel.outbox import MARKETING, Intent
from funnel.postbox import Postbox
from funnel.recorder import record
from funnel.sources import UNKNOWN
from funnel.store.base import FunnelStore

MAGNET_REQUESTED = "magnet_requested"
MAGNET_DELIVERED = "magnet_delivered"


async def magnet_requested(
    store: FunnelStore,
    customer_id: int,
    asked: Entry,
    magnet: Magnet | None,
    at: datetime,
    key: str,
) -> None:
    """Every request counts, a magnet that does not exist as 'unknown'."""
    properties = {"magnet": magnet.id if magnet else UNKNOWN}
    if magnet is None and asked.magnet:
        properties["asked"] = asked.magnet
    await record(
        store,
        Event(customer_id, MAGNET_REQUESTED, at, key=f"{key}:magnet", source=asked.source,
              platform="telegram", properties=properties),
    )  # fmt: skip


async def magnet_delivered(
    store: FunnelStore, customer_id: int, magnet: Magnet, source: str, at: datetime
) -> None:
    """Once per customer and magnet: a repeated request re-sends it but counts no stage again."""
    await record(
        store,
        Event(customer_id, MAGNET_DELIVERED, at, key=f"magnet:{customer_id}:{magnet.id}",
              source=source, platform="telegram", properties={"magnet": magnet.id}),
    )  # fmt: skip


CONTACT_SHARED = "contact_shared"
EMAIL_GIVEN = "email_given"
GATE_PASSED = "gate_passed"


async def gate_passed(
    store: FunnelStore,
    customer_id: int,
    gate: str,
    key: str | None,
    magnet: str,
    at: datetime,
    update_key: str,
) -> None:
    """The customer gave what the gate asked: a phone or e-mail key joins their identity, the
    events follow, and the magnet no longer waits."""
    shared = {"contact": [CONTACT_SHARED], "email": [EMAIL_GIVEN]}.get(gate, [])
    async with store.transaction() as tx:
        if key is not None:
            await tx.add_key(customer_id, key, at.isoformat())
            # A verified phone may be on orders the shop sent before the customer wrote to us.
            await identify(tx, customer_id, at)
        await tx.close_gate(customer_id)
        for event_type in (*shared, GATE_PASSED):
            await tx.record(
                Event(customer_id, event_type, at, key=f"{update_key}:{event_type}",
                      platform="telegram", properties={"magnet": magnet, "gate": gate}),
            )  # fmt: skip


FOLLOWUP_TEMPLATE = "magnet.followup"


async def schedule_followups(
    postbox: Postbox, customer_id: int, magnet: Magnet, at: datetime
) -> None:
    """The magnet's follow-ups as marketing, each once, each stopping if the customer orders."""
    for step, followup in enumerate(magnet.followups):
        await postbox.send(
            Intent(
                customer_id=customer_id,
                template=FOLLOWUP_TEMPLATE,
                kind=MARKETING,
                not_before=at + followup.delay,
                variables={"magnet": magnet.id, "step": step},
                dedupe_key=f"followup:{customer_id}:{magnet.id}:{step}",
                cancel_key=f"followups:{customer_id}",
                stop_on_order=True,
            )
        )
