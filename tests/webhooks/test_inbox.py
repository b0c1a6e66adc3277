"""The inbox: nothing acknowledged is lost across a crash, failures are kept with their reason
and the admins told, replays pick them up after the fix, and old processed rows go."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.database import open_database
from bot.inbox_worker import InboxWorker
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.sender import Sender
from funnel.clock import ManualClock
from funnel.inbox import FAILED, PROCESSED
from funnel.postbox import Postbox
from funnel.progress import StagePlan
from funnel.store.base import FunnelStore
from handlers.webhooks import shopify
from handlers.webhooks.platforms import parsers
from tests.conftest import ADMIN_ID
from tests.webhooks.conftest import Client, Sample, all_samples, post, sample


def broken_fulfillment() -> Sample:
    """A fulfilment with a shipment status this version does not know yet."""
    item = sample("shopify", "12-fulfillments-create")
    body = item.body.replace(b'"shipment_status":null', b'"shipment_status":"teleported"')
    assert body != item.body
    headers = {**item.headers, "X-Shopify-Webhook-Id": "broken-1"}
    return Sample(item.platform, item.name, headers, body).signed()


async def test_a_crash_after_the_200_loses_nothing(
    client: Client, store: FunnelStore, tmp_path: Path, clock: ManualClock, plan: StagePlan
) -> None:
    acknowledged = 0
    for item in all_samples():
        response = await post(client, item.signed())
        acknowledged += (await response.json())["status"] == "accepted"
    await store.close()  # the process dies before the worker ran

    reopened = await open_database(f"sqlite:///{tmp_path / 'funnel.sqlite3'}", clock, plan)
    try:
        outcome = await InboxWorker(reopened, clock, parsers(), region="RU").drain()
        async with reopened.transaction() as tx:
            lines = await tx.recent_deliveries(1000)
    finally:
        await reopened.close()

    assert acknowledged == 42
    assert (outcome.processed, outcome.failed) == (42, 0)
    assert {line.status for line in lines} == {PROCESSED}


async def test_a_delivery_that_cannot_be_parsed_is_kept_failed_and_admins_told(
    client: Client, store: FunnelStore, clock: ManualClock, sender: Sender, sandbox: BotApiSandbox
) -> None:
    sandbox.add_user(Profile(ADMIN_ID, "Owner", "en"))
    worker = InboxWorker(
        store, clock, parsers(), region="RU", postbox=Postbox(store, clock), admin_ids=[ADMIN_ID]
    )
    await post(client, broken_fulfillment())
    await post(client, sample("shopify", "07-orders-create").signed())

    outcome = await worker.drain()

    assert (outcome.processed, outcome.failed) == (1, 1)
    await sender.drain()
    async with store.transaction() as tx:
        [failed] = await tx.recent_deliveries(10, FAILED)
    assert failed.error == "unknown shipment_status 'teleported'"
    [alert] = sandbox.messages_to(ADMIN_ID)
    assert alert.text.startswith(
        "⚠️ A shopify webhook (fulfillments/create, inbox #1) could not be processed: "
        "unknown shipment_status 'teleported'"
    )
    assert "funnelbot replay 1" in alert.text


async def test_a_failed_delivery_is_processed_when_replayed_after_the_fix(
    client: Client, store: FunnelStore, worker: InboxWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post(client, sample("shopify", "07-orders-create").signed())
    await post(client, broken_fulfillment())
    await worker.drain()

    # The fix: a release that knows the status.
    monkeypatch.setitem(shopify.SHIPMENT_STATUS, "teleported", "in_transit")
    async with store.transaction() as tx:
        requeued = await tx.requeue_deliveries(None)
    outcome = await worker.drain()

    assert requeued == 1
    assert (outcome.processed, outcome.failed) == (1, 0)
    async with store.transaction() as tx:
        shipment = await tx.find_shipment("1Z4V78W20391847265")
        assert await tx.recent_deliveries(10, FAILED) == []
    assert shipment is not None and shipment.facts.status == "in_transit"


async def test_processed_deliveries_are_pruned_after_retention_failed_ones_kept(
    client: Client, store: FunnelStore, clock: ManualClock
) -> None:
    worker = InboxWorker(store, clock, parsers(), region="RU", retention_days=30)
    await post(client, sample("shopify", "07-orders-create").signed())
    await post(client, broken_fulfillment())
    await worker.drain()

    clock.advance(timedelta(days=29))
    kept = await worker.prune()
    clock.advance(timedelta(days=2))
    pruned = await worker.prune()

    assert (kept, pruned) == (0, 1)
    async with store.transaction() as tx:
        [left] = await tx.recent_deliveries(10)
    assert left.status == FAILED


async def test_only_failed_deliveries_can_be_dropped(
    client: Client, store: FunnelStore, worker: InboxWorker
) -> None:
    await post(client, sample("shopify", "07-orders-create").signed())
    await post(client, broken_fulfillment())
    await worker.drain()

    async with store.transaction() as tx:
        processed_dropped = await tx.drop_delivery(1)
        failed_dropped = await tx.drop_delivery(2)
        left = [line.id for line in await tx.recent_deliveries(10)]

    assert (processed_dropped, failed_dropped) == (False, True)
    assert left == [1]
