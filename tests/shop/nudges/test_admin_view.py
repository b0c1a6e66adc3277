"""/nudges in the admin's chat: what the reminders did, per step, against the holdout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from tests.conftest import ADMIN_ID
from tests.shop.conftest import PUBLIC_URL, Buyer, Client, Runner, Shop

Buyers = Callable[..., Awaitable[Buyer]]


@pytest.fixture
async def admin(sandbox: BotApiSandbox, polling: None) -> SandboxUser:
    return SandboxUser(sandbox, Profile(ADMIN_ID, "Owner", "en"))


async def test_the_owner_sees_reminded_clicked_recovered_and_revenue(
    admin: SandboxUser, shop: Shop, buyers: Buyers, runner: Runner, sandbox: BotApiSandbox,
    client: Client,
) -> None:  # fmt: skip
    john, anna = await buyers(), await buyers("ru", "Анна")
    await shop.cart(john, "c-1")
    await shop.cart(anna, "c-2", amount="990.00")
    await runner.run(timedelta(hours=2))
    [reminder] = sandbox.messages_to(john.telegram_id)
    await client.get(reminder.buttons()[0]["url"].removeprefix(PUBLIC_URL), allow_redirects=False)
    await shop.order(john, "1001", cart_token="c-1", amount="1990.00")
    await runner.run(timedelta(days=2))

    [reply] = await admin.send("/nudges")

    text = reply.text
    assert text.startswith("Abandoned carts, last 30 days\nabandoned                 2\n")
    assert "reminded (sent)           2" in text  # carts; Анна's got both steps
    assert "clicked                   1   50.0 % of reminded" in text
    assert "recovered                 1   via the link 1" in text
    assert "recovered revenue    1,990.00 RUB" in text
    assert "no holdout: set holdout_percent under [carts] to measure the lift" in text
    steps = text.split("Per step\n", 1)[1].splitlines()
    assert steps[0].split() == ["step", "group", "reached", "sent", "clicked", "recovered"]
    assert steps[1].split() == ["1", "reminded", "2", "2", "1", "1"]
    assert steps[2].split() == ["2", "reminded", "1", "1", "0", "0"]


async def test_a_bad_period_gets_the_usage(admin: SandboxUser) -> None:
    [reply] = await admin.send("/nudges forever")

    assert reply.text == (
        "Days must be a number from 1 to 366.\n"
        "Usage: /nudges [days] — carts abandoned in the last 30 days by default"
    )


async def test_others_cannot_see_the_reminders(sandbox: BotApiSandbox, polling: None) -> None:
    stranger = SandboxUser(sandbox, Profile(42, "Stranger", "en"))

    [reply] = await stranger.send("/nudges")

    assert "Abandoned carts" not in reply.text
