"""A magnet whose file has gone: the admins hear of it, the customer gets an apology."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.definition import FunnelDefinition
from funnel.store.base import FunnelStore
from tests.conftest import ADMIN_ID, UserFactory
from tests.e2e.test_start import events_of


@pytest.fixture
def definition(definition: FunnelDefinition, tmp_path: Path) -> FunnelDefinition:
    magnets = [
        m.model_copy(update={"file": str(tmp_path / "gone.pdf")}) if m.id == "tea_guide" else m
        for m in definition.magnets
    ]
    return definition.model_copy(update={"magnets": magnets})


async def test_a_missing_file_alerts_the_admins_and_apologises(
    make_user: UserFactory, store: FunnelStore, sandbox: BotApiSandbox
) -> None:
    sandbox.add_user(Profile(ADMIN_ID, "Owner", "en"))
    emily = make_user("Emily", "en")

    [reply] = await emily.start("tea_guide--vk")

    assert reply.text == "Sorry, something went wrong on our side. Please try again in a minute."
    kinds = [s.event.type for s in await events_of(store, emily.profile.id)]
    assert kinds == ["bot_started", "magnet_requested"]
    async with store.transaction() as tx:
        health = await tx.outbox_health(0)
    assert health.pending == 1  # the alert, waiting for the sender
