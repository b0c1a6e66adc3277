"""/delivery in the admin's chat."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.inbox_worker import InboxWorker
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock
from funnel.store.base import FunnelStore
from tests.conftest import ADMIN_ID
from tests.shop.conftest import Client, Runner, deliver, story_customer
from tests.webhooks.conftest import ANNA, EMILY


@pytest.fixture
async def admin(sandbox: BotApiSandbox, polling: None) -> SandboxUser:
    return SandboxUser(sandbox, Profile(ADMIN_ID, "Owner", "en"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_the_owner_sees_parcels_rates_and_who_is_to_collect(
    admin: SandboxUser, client: Client, worker: InboxWorker, runner: Runner,
    sandbox: BotApiSandbox, store: FunnelStore, clock: ManualClock,
) -> None:  # fmt: skip
    await story_customer(store, sandbox, clock, ANNA, "ru")
    await story_customer(store, sandbox, clock, EMILY, "en")
    await runner.run(at("2026-09-09T10:00:00+00:00") - clock.now())
    await deliver(client, worker, "woocommerce", "02-order-created", "04-order-created")
    await deliver(client, worker, "cdek", "01-received-at-shipment-warehouse",
                  "05-accepted-at-pick-up-point", "06-delivered",  # Анна: 3 days
                  "04-received-at-shipment-warehouse", "07-accepted-at-pick-up-point",
                  "08-not-delivered")  # fmt: skip
    await deliver(client, worker, "shopify", "07-orders-create", "12-fulfillments-create")
    await deliver(client, worker, "aftership", "07-available-for-pickup")
    await runner.run(at("2026-09-15T12:00:00+00:00") - clock.now())

    [reply] = await admin.send("/delivery")

    text = reply.text
    assert text.startswith("Parcels, last 30 days\n")
    assert "ready_for_pickup       1" in text
    assert "delivered              1" in text
    assert "returned               1" in text
    assert "all                    3" in text
    assert "delivered (buy-out)   50.0 %   of 2 that ended" in text
    assert "returned              50.0 %" in text
    assert "first scan to delivery: median 3.0 days" in text
    waiting = text.split("Waiting at pickup points\n", 1)[1]
    assert waiting.startswith(
        "1Z4V78W20391847265  UPS  UPS Access Point, 2401 E Colfax Ave, Denver, CO 80206\n"
        "  until 2026-09-19 16:40 UTC, 4.2 d left"
    )


async def test_a_bad_period_gets_the_usage(admin: SandboxUser) -> None:
    [reply] = await admin.send("/delivery 0")

    assert reply.text.startswith("Days must be a number from 1 to 366.")
