"""/webhooks for admins: deliveries per platform, failures with their reason, refusals; and
replaying or dropping the failed ones from the chat."""

from __future__ import annotations

import pytest

from bot.inbox_worker import InboxWorker
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.inbox import FAILED
from funnel.store.base import FunnelStore
from handlers.webhooks import shopify
from tests.conftest import ADMIN_ID
from tests.webhooks.conftest import Client, post, sample
from tests.webhooks.test_inbox import broken_fulfillment


@pytest.fixture
async def admin(sandbox: BotApiSandbox, polling: None) -> SandboxUser:
    return SandboxUser(sandbox, Profile(ADMIN_ID, "Owner", "en"))


async def test_the_overview_shows_deliveries_failures_and_refusals(
    admin: SandboxUser, client: Client, worker: InboxWorker
) -> None:
    await post(client, sample("shopify", "07-orders-create").signed())
    await post(client, broken_fulfillment())
    await post(client, sample("aftership", "02-in-transit").signed("forged"))
    await worker.drain()

    [reply] = await admin.send("/webhooks")

    overview, recent = reply.text.split("Last deliveries")
    recent, failed = recent.split("Failed (replay or drop them)")
    assert "shopify\n  last 24 h  2" in overview
    assert "pending    0   failed 1" in overview
    assert "aftership" in overview and "refused    signature 1" in overview
    assert "#2" in recent and "#1" in recent
    assert "#2" in failed and "unknown shipment_status 'teleported'" in failed


async def test_admins_replay_and_drop_failed_deliveries(
    admin: SandboxUser,
    client: Client,
    worker: InboxWorker,
    store: FunnelStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await post(client, sample("shopify", "07-orders-create").signed())
    await post(client, broken_fulfillment())
    await worker.drain()

    [nothing] = await admin.send("/webhooks replay 1")
    monkeypatch.setitem(shopify.SHIPMENT_STATUS, "teleported", "in_transit")
    [queued] = await admin.send("/webhooks replay failed")
    outcome = await worker.drain()
    [not_failed] = await admin.send("/webhooks drop 2")
    [confused] = await admin.send("/webhooks destroy everything")

    assert nothing.text == "Nothing to replay: only failed deliveries can be replayed."
    assert queued.text == "1 delivery queued again."
    assert (outcome.processed, outcome.failed) == (1, 0)
    assert not_failed.text == "#2 is not a failed delivery; nothing was dropped."
    assert confused.text.startswith("I did not understand that.")
    async with store.transaction() as tx:
        assert await tx.recent_deliveries(10, FAILED) == []


async def test_others_cannot_see_the_webhooks(
    sandbox: BotApiSandbox, polling: None, client: Client
) -> None:
    stranger = SandboxUser(sandbox, Profile(42, "Stranger", "en"))

    [reply] = await stranger.send("/webhooks")

    assert "last 24 h" not in reply.text
