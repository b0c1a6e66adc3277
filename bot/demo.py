"""`funnelbot demo`: the real bot against the sandbox Telegram, a scripted story, what it recorded.

Each capability adds its scenes here, so the demo tells the whole story of the product offline.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.app import create_bot, create_dispatcher
from bot.database import open_database
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile, SentMessage
from funnel.clock import SystemClock
from funnel.definition import FunnelDefinition
from funnel.progress import StagePlan
from funnel.store.base import FunnelStore


@dataclass(frozen=True, slots=True)
class Scene:
    title: str
    user: str
    said: str
    act: Callable[[SandboxUser], Awaitable[list[SentMessage]]]


def _scenes(bot_username: str) -> list[Scene]:
    link = f"t.me/{bot_username}?start="
    return [
        Scene(
            f"Анна taps an ad link {link}vk_spring",
            "anna",
            "/start vk_spring",
            lambda u: u.start("vk_spring"),
        ),
        Scene(
            "Анна asks a question the bot does not handle yet",
            "anna",
            "Сколько стоит доставка?",
            lambda u: u.send("Сколько стоит доставка?"),
        ),
        Scene("Анна sends a sticker", "anna", "[sticker]", lambda u: u.send_sticker()),
        Scene("John opens the bot with no link", "john", "/start", lambda u: u.start()),
        Scene(
            f"Анна comes back through a channel post {link}tg_post_42",
            "anna",
            "/start tg_post_42",
            lambda u: u.start("tg_post_42"),
        ),
        Scene(
            "Mia follows a mangled link (a payload Telegram would not allow)",
            "mia",
            "/start summer sale!",
            lambda u: u.send("/start summer sale!"),
        ),
    ]


PROFILES = {
    "anna": Profile(id=5_000_001, first_name="Анна", language_code="ru"),
    "john": Profile(id=5_000_002, first_name="John", language_code="en-US"),
    "mia": Profile(id=5_000_003, first_name="Mia", language_code="de"),
}


async def run_demo(definition: FunnelDefinition, out: TextIO) -> None:
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="funnelbot-demo-") as folder:
        store = await open_database(
            f"sqlite:///{Path(folder) / 'demo.sqlite3'}", clock, StagePlan.of(definition)
        )
        async with BotApiSandbox() as sandbox:
            bot = create_bot(sandbox.token, sandbox.url)
            dispatcher = create_dispatcher(store=store, clock=clock, definition=definition)
            # One update at a time, so that each scene's replies are complete when it ends.
            polling = asyncio.create_task(
                dispatcher.start_polling(
                    bot, handle_signals=False, handle_as_tasks=False, polling_timeout=1
                )
            )
            try:
                await _play(sandbox, out)
                await _show_events(store, out)
            finally:
                await dispatcher.stop_polling()
                await polling
                await bot.session.close()
        await store.close()


async def _play(sandbox: BotApiSandbox, out: TextIO) -> None:
    users = {key: SandboxUser(sandbox, profile) for key, profile in PROFILES.items()}
    out.write("Offline demo: the real bot talks to a sandbox Telegram on this machine.\n")
    for scene in _scenes(sandbox.bot_username):
        user = users[scene.user]
        out.write(f"\n── {scene.title}\n")
        out.write(f"   {user.profile.first_name:>5} ▸ {scene.said}\n")
        for reply in await scene.act(user):
            lines = reply.text.splitlines() or [""]
            out.write(f"   {'bot':>5} ◂ {lines[0]}\n")
            for line in lines[1:]:
                out.write(f"   {'':>5}   {line}\n")


async def _show_events(store: FunnelStore, out: TextIO) -> None:
    async with store.transaction() as tx:
        events = await tx.recent_events(limit=50)
    out.write("\nWhat the funnel recorded:\n")
    out.write(f"   {'customer':<9} {'event':<15} {'source':<12} occurred at (UTC)\n")
    for stored in events:
        event = stored.event
        out.write(
            f"   {event.customer_id:<9} {event.type:<15} {event.source or '':<12} "
            f"{event.occurred_at:%Y-%m-%d %H:%M:%S}\n"
        )
