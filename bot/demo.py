"""`funnelbot demo`: the real bot against the sandbox Telegram, a scripted story, what it recorded.

Each capability adds its scenes here, so the demo tells the whole story of the product offline.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.app import create_bot, create_dispatcher
from bot.database import open_database
from bot.demo_shop import SHOP_PLATFORMS, play_shop
from bot.demo_text import act
from bot.messages import renderer
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile, SentMessage
from bot.sender import Sender
from funnel.clock import SystemClock
from funnel.definition import FunnelDefinition
from funnel.history import import_rows
from funnel.outbox import Policy, QuietHours
from funnel.postbox import Postbox
from funnel.progress import StagePlan
from funnel.report import DEFAULT_WINDOW_DAYS
from funnel.reporting import DEFAULT_DROP_POINTS, ReportDefaults
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
            f"Анна taps an ad for the tea guide: {link}tea_guide--vk",
            "anna",
            "/start tea_guide--vk",
            lambda u: u.start("tea_guide--vk"),
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
            f"John follows a channel post to a checklist that costs an e-mail: "
            f"{link}checklist--tg_post",
            "john",
            "/start checklist--tg_post",
            lambda u: u.start("checklist--tg_post"),
        ),
        Scene(
            "John gets his address wrong",
            "john",
            "john at example",
            lambda u: u.send("john at example"),
        ),
        Scene("…and right", "john", "John@Example.com", lambda u: u.send("John@Example.com")),
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
    "owner": Profile(id=5_000_100, first_name="Owner", language_code="en"),
}
OWNER_SCENES = [
    ("The owner asks where the last 30 days' customers were lost", "/report 30d"),
    ("…and which source brings buyers", "/report 30d by source"),
    ("…and how this week compares with the last", "/compare 7d"),
    ("…and wants the picture", "/chart 30d"),
    ("…and yesterday's digest, which otherwise comes daily at DIGEST_TIME", "/digest"),
]
# (event, share of the previous stage that gets there, median hours after it)
HISTORY_STEPS = [
    ("magnet_delivered", 0.55, 0.1),
    ("cart_updated", 0.45, 20),
    ("checkout_started", 0.6, 1),
    ("order_created", 0.75, 0.5),
    ("order_paid", 0.8, 3),
    ("delivered", 0.85, 72),
    ("order_paid", 0.3, 200),
]


async def run_demo(definition: FunnelDefinition, zone: ZoneInfo, out: TextIO) -> None:
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="funnelbot-demo-") as folder:
        store = await open_database(
            f"sqlite:///{Path(folder) / 'demo.sqlite3'}", clock, StagePlan.of(definition)
        )
        async with BotApiSandbox() as sandbox:
            bot = create_bot(sandbox.token, sandbox.url)
            defaults = ReportDefaults(zone, DEFAULT_WINDOW_DAYS, DEFAULT_DROP_POINTS)
            sender = Sender(
                bot,
                store,
                clock,
                Policy(QuietHours.parse("22:00-09:00"), 3, zone),
                renderer(store, definition, defaults),
            )
            postbox = Postbox(store, clock, sender.wake)
            dispatcher = create_dispatcher(
                store=store,
                clock=clock,
                definition=definition,
                admin_ids=[PROFILES["owner"].id],
                report_defaults=defaults,
                postbox=postbox,
                webhook_platforms=SHOP_PLATFORMS,
            )
            # One update at a time, so that each scene's replies are complete when it ends.
            polling = asyncio.create_task(
                dispatcher.start_polling(
                    bot, handle_signals=False, handle_as_tasks=False, polling_timeout=1
                )
            )
            try:
                users = {key: SandboxUser(sandbox, p) for key, p in PROFILES.items()}
                await _play(sandbox, users, out)
                await play_shop(store, clock, bot, definition, zone, users["john"],
                                users["owner"], out)  # fmt: skip
                await _show_events(store, out)
                await _import_history(store, Path(folder), clock.now(), out)
                for title, command in OWNER_SCENES:
                    await act(out, title, users["owner"], command, users["owner"].send(command))
                await _alerts(postbox, sender, users["owner"], out)
            finally:
                await dispatcher.stop_polling()
                await polling
                await bot.session.close()
        await store.close()


async def _play(sandbox: BotApiSandbox, users: dict[str, SandboxUser], out: TextIO) -> None:
    out.write("Offline demo: the real bot talks to a sandbox Telegram on this machine.\n")
    for scene in _scenes(sandbox.bot_username):
        user = users[scene.user]
        await act(out, scene.title, user, scene.said, scene.act(user))


async def _import_history(store: FunnelStore, folder: Path, now: datetime, out: TextIO) -> None:
    """A month of a shop's past funnel, as a CRM would export it, imported as a shop would."""
    rows = _history(now)
    path = folder / "crm-export.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with path.open(encoding="utf-8") as stream:
        outcome = await import_rows(store, stream, path.name, lambda _: None)
    out.write(
        f"\n── The owner imports last month's CRM export (funnelbot import crm-export.jsonl)\n"
        f"   imported {outcome.imported} events for {len(outcome.customers)} customers\n"
    )


async def _alerts(postbox: Postbox, sender: Sender, owner: SandboxUser, out: TextIO) -> None:
    """Something breaks twice in a row: the owner hears once, through the outbox."""
    for _ in range(2):
        await postbox.alert(
            [owner.profile.id], "webhook:shopify", "Shopify webhooks fail their signature check"
        )
    before = len(owner.inbox)
    await sender.drain()
    out.write("\n── A shop webhook fails twice in a row; the alert collapses into one message\n")
    for message in owner.inbox[before:]:
        out.write(f"   {'bot':>5} ◂ {message.text}\n")


def _history(now: datetime) -> list[dict[str, object]]:
    rng = random.Random(2026)  # noqa: S311 - made-up demo data, the same every run
    rows: list[dict[str, object]] = []
    for n in range(400):
        customer = f"crm:{n}"
        at = now - timedelta(days=rng.uniform(0.5, 30))
        source = rng.choices(["vk", "tg_ads", "qr_store", "blog"], [5, 3, 2, 1])[0]
        rows.append(_row(customer, "bot_started", at, source=source))
        for kind, share, hours in HISTORY_STEPS:
            if rng.random() > share:
                break
            at += timedelta(hours=rng.lognormvariate(math.log(hours), 0.8))
            if at > now:
                break
            rows.append(_row(customer, kind, at, platform="shopify"))
    return rows


def _row(customer: str, kind: str, at: datetime, **extra: object) -> dict[str, object]:
    return {"customer": customer, "event": kind, "occurred_at": at.isoformat(), **extra}


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
