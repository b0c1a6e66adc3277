"""The scheduler's jobs for parcels: relaying a status change, and asking CDEK about parcels
whose status has stood still."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

import structlog

from bot.scheduler import JobHandler
from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.postbox import Postbox
from funnel.relay import SHIPMENT_CHANGED_JOB, ParcelRelay
from funnel.store.base import FunnelStore, Job
from handlers.webhooks.cdek import PLATFORM as CDEK
from handlers.webhooks.cdek_api import CdekApi, CdekApiError

log = structlog.get_logger(__name__)

STALE_PARCELS_JOB = "stale_parcels"
STALE_PARCELS_KEY = "stale-parcels"
POLL_EVERY = timedelta(hours=1)
POLL_BATCH = 100


def parcel_jobs(
    store: FunnelStore,
    clock: Clock,
    relay: ParcelRelay,
    postbox: Postbox,
    admin_ids: Iterable[int],
    wake_sender: Callable[[], None],
) -> dict[str, JobHandler]:
    admins = tuple(admin_ids)

    async def shipment_changed(job: Job) -> None:
        shipment_id = int(job.payload["shipment_id"])
        async with store.transaction() as tx:
            relayed = await relay.shipment_changed(tx, shipment_id, clock.now())
        if relayed.enqueued:
            wake_sender()
        if relayed.alert is not None and admins:
            await postbox.alert(admins, f"parcel:{shipment_id}", relayed.alert)

    return {SHIPMENT_CHANGED_JOB: shipment_changed}


async def ensure_stale_poll(store: FunnelStore, clock: Clock) -> None:
    async with store.transaction() as tx:
        await tx.schedule(
            STALE_PARCELS_JOB, STALE_PARCELS_KEY, epoch_ms(clock.now()), {}, replace=False
        )


def stale_parcel_job(
    store: FunnelStore,
    clock: Clock,
    api: CdekApi,
    stale_after: timedelta,
    postbox: Postbox,
    admin_ids: Iterable[int],
    wake_inbox: Callable[[], None],
) -> JobHandler:
    """Every hour: the CDEK parcels whose status is older than stale_after (and not asked about
    since) are looked up; what CDEK says goes into the inbox like a webhook."""
    admins = tuple(admin_ids)

    async def poll(_: Job) -> None:
        now = clock.now()
        async with store.transaction() as tx:
            refs = await tx.stale_parcels(f"{CDEK}:", epoch_ms(now - stale_after), POLL_BATCH)
        asked, found = [], []
        for ref in refs:
            try:
                found += await api.deliveries(ref.removeprefix(f"{CDEK}:"))
            except CdekApiError as error:
                log.warning("stale parcel lookup failed", ref=ref, error=str(error))
                if admins:
                    text = f"Looking up stale CDEK parcels failed: {error}"
                    await postbox.alert(admins, "cdek:poll", text)
                break
            asked.append(ref)
        accepted = [i for i in await store.receive_deliveries(found) if i is not None]
        async with store.transaction() as tx:
            await tx.mark_polled(asked, epoch_ms(now))
            # A full batch means more are waiting: go on at once, otherwise in an hour.
            later = now + (timedelta(seconds=1) if len(asked) == POLL_BATCH else POLL_EVERY)
            await tx.schedule(STALE_PARCELS_JOB, STALE_PARCELS_KEY, epoch_ms(later), {})
        log.info("stale parcels looked up", parcels=len(asked), new_statuses=len(accepted))
        if accepted:
            wake_inbox()

    return poll
