"""`funnelbot run` end to end: polling and webhook mode against the sandbox, then a clean stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.runtime import serve
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.settings import Settings, load_settings
from funnel.clock import ManualClock
from tests.conftest import REPO, free_port


def settings_for(sandbox: BotApiSandbox, folder: Path, **extra: object) -> Settings:
    return load_settings(
        _env_file=None,
        BOT_TOKEN=sandbox.token,
        TELEGRAM_API_URL=sandbox.url,
        DATABASE_URL=f"sqlite:///{folder / 'run.sqlite3'}",
        FUNNEL_FILE=REPO / "funnel.toml",
        **extra,
    )


async def test_polling_mode_answers_and_stops_cleanly(
    tmp_path: Path, sandbox: BotApiSandbox, clock: ManualClock
) -> None:
    owner = sandbox.add_user(Profile(id=41, first_name="Owner"))
    # 42 never opened the bot, so Telegram has no chat to scope a menu to.
    settings = settings_for(sandbox, tmp_path, HTTP_PORT=free_port(), ADMIN_IDS="41,42")
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, clock, stop))
    anna = SandboxUser(sandbox, Profile(id=31, first_name="Анна", language_code="ru"))

    await anna.start("qr_store")
    # In production the dispatcher handles updates as tasks: the reply may follow the ack.
    replies = await sandbox.wait_for_messages(anna.profile.id, 1)
    async with aiohttp.ClientSession() as http:
        health = await http.get(f"http://127.0.0.1:{settings.HTTP_PORT}/healthz")
    stop.set()
    await running

    assert replies[0].text.startswith("Здравствуйте, Анна!")
    assert health.status == 200
    assert sandbox.commands["default"] == [{"command": "start", "description": "Start / Начать"}]
    admin_menu = [command["command"] for command in sandbox.commands[str(owner.id)]]
    assert admin_menu == [
        "start",
        "report",
        "compare",
        "chart",
        "export",
        "digest",
        "links",
        "health",
        "webhooks",
        "nudges",
        "delivery",
        "help",
    ]
    assert "42" not in sandbox.commands
    assert sandbox.webhook_url == ""


async def test_webhook_mode_registers_the_webhook_and_serves_it(
    tmp_path: Path, sandbox: BotApiSandbox, clock: ManualClock
) -> None:
    port = free_port()
    settings = settings_for(
        sandbox,
        tmp_path,
        HTTP_PORT=port,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET="shared_secret_123",
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, clock, stop))
    await sandbox.wait_for_webhook()  # start-up is over once the webhook is registered
    john = SandboxUser(sandbox, Profile(id=32, first_name="John", language_code="en"))

    replies = await john.start()
    stop.set()
    await running

    assert sandbox.webhook_url == f"http://127.0.0.1:{port}/telegram/webhook"
    assert sandbox.webhook_secret == "shared_secret_123"
    assert replies[0].text.startswith("Hello, John!")
