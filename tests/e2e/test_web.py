"""The one aiohttp application: Telegram's webhook behind its secret, health, JSON errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import TELEGRAM_WEBHOOK_PATH, create_web_app
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.store.base import FunnelStore

SECRET = "webhook_secret_for_tests"
Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory,
    store: FunnelStore,
    dispatcher: Dispatcher,
    bot: Bot,
) -> Client:
    return await aiohttp_client(create_web_app(store=store, telegram=(dispatcher, bot, SECRET)))


async def test_an_update_with_the_secret_is_handled_before_the_answer(
    client: Client, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    emily = sandbox.add_user(Profile(id=901, first_name="Emily"))
    update = sandbox.user_message(emily, text="/start ig_story")

    response = await client.post(
        TELEGRAM_WEBHOOK_PATH,
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )

    assert response.status == 200
    assert sandbox.messages_to(emily.id)[0].text.startswith("Hello, Emily!")
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(emily.id)
    assert customer is not None and customer.first_source == "ig_story"


@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_an_update_without_the_right_secret_is_refused(
    client: Client, sandbox: BotApiSandbox, secret: str | None
) -> None:
    intruder = sandbox.add_user(Profile(id=902, first_name="Mallory"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

    response = await client.post(
        TELEGRAM_WEBHOOK_PATH,
        json=sandbox.user_message(intruder, text="/start"),
        headers=headers,
    )

    assert response.status == 401
    assert sandbox.messages_to(intruder.id) == []


async def test_health_says_ok_while_the_database_answers(
    client: Client, store: FunnelStore
) -> None:
    response = await client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert response.headers["X-Request-Id"]


async def test_health_says_unavailable_when_the_database_is_gone(
    client: Client, store: FunnelStore
) -> None:
    await store.close()

    response = await client.get("/healthz")

    assert response.status == 503
    assert (await response.json())["status"] == "unavailable"


async def test_unknown_paths_get_a_json_404(client: Client) -> None:
    response = await client.get("/wp-admin", headers={"X-Request-Id": "req-123"})

    assert response.status == 404
    assert await response.json() == {"error": "Not Found"}
    assert response.headers["X-Request-Id"] == "req-123"


async def test_a_wrong_method_gets_a_json_405(client: Client) -> None:
    response = await client.delete("/healthz")

    assert response.status == 405
    assert await response.json() == {"error": "Method Not Allowed"}
