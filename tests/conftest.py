"""Shared fixtures: a fixed clock, a migrated store, the shipped funnel file, the sandbox and a
running bot polling it, exactly as production builds them."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher

from bot.app import create_bot, create_dispatcher
from bot.database import open_database
from bot.logging import configure_logging
from bot.messages import renderer
from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.sender import Pacing, Sender
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition, load_definition
from funnel.outbox import Policy, QuietHours
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def json_logs() -> None:
    """Log as production does off a terminal, so failures in tests show the real lines."""
    configure_logging("INFO", "json", [], stream=sys.stderr)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def definition() -> FunnelDefinition:
    return load_definition(REPO / "funnel.toml")


@pytest.fixture
def plan(definition: FunnelDefinition) -> StagePlan:
    return StagePlan.of(definition)


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock, plan: StagePlan) -> AsyncIterator[FunnelStore]:
    store = await open_database(f"sqlite:///{tmp_path / 'funnel.sqlite3'}", clock, plan)
    yield store
    await store.close()


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox(clock=clock) as sandbox:
        yield sandbox


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    bot = create_bot(sandbox.token, sandbox.url)
    yield bot
    await bot.session.close()


ADMIN_ID = 1_000_001
SHOP_ZONE = ZoneInfo("Europe/Moscow")


@pytest.fixture
def dispatcher(store: FunnelStore, clock: ManualClock, definition: FunnelDefinition) -> Dispatcher:
    return create_dispatcher(
        store=store,
        clock=clock,
        definition=definition,
        admin_ids=[ADMIN_ID],
        report_defaults=ReportDefaults(SHOP_ZONE, 30, 5.0),
    )


@pytest.fixture
async def polling(dispatcher: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """The real dispatcher long-polling the sandbox, one update at a time."""
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, handle_as_tasks=False, close_bot_session=False
        )
    )
    yield
    await dispatcher.stop_polling()
    await task


UserFactory = Callable[..., SandboxUser]


@pytest.fixture
def make_user(sandbox: BotApiSandbox, polling: None) -> UserFactory:
    ids = count(7_000_001)

    def make(first_name: str = "Emily", language_code: str | None = "en") -> SandboxUser:
        return SandboxUser(sandbox, Profile(next(ids), first_name, language_code))

    return make


@pytest.fixture
def sender(
    bot: Bot, store: FunnelStore, clock: ManualClock, definition: FunnelDefinition
) -> Sender:
    """The real sender on the sandbox, in virtual time: a Moscow shop, cap 3, no jitter."""
    render = renderer(store, definition, ReportDefaults(SHOP_ZONE, 30, 5.0), clock)
    policy = Policy(QuietHours.parse("22:00-09:00"), 3, SHOP_ZONE)
    return Sender(bot, store, clock, policy, render, Pacing(), jitter=lambda: 0.0)
