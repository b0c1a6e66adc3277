"""The funnelbot command: run, migrate, check, demo.

Every failure a user can cause ends in one line that names the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)

from bot.database import migrations_dir, open_database
from bot.demo import run_demo
from bot.logging import configure_logging
from bot.runtime import serve, stop_on_signals
from bot.settings import Settings, SettingsError, load_settings
from funnel.clock import SystemClock
from funnel.definition import DefinitionError, FunnelDefinition, load_definition
from funnel.store.base import StoreUnavailable
from funnel.store.migrations import MigrationError, discover

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Failure(Exception):
    """Ends the command with these lines on stderr."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="funnelbot",
        description=(
            "A Telegram bot that runs an online shop's sales funnel and shows the owner "
            "where customers are lost. Settings come from the environment and .env."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot (the offline demo when BOT_TOKEN is empty)",
        description=(
            "Migrate the database, then run the bot and its web server in one process: "
            "long polling by default, Telegram's webhook when PUBLIC_URL is set. "
            "Without BOT_TOKEN it runs the offline demo instead."
        ),
    )
    commands.add_parser(
        "migrate",
        help="apply pending database migrations and exit",
        description="Apply the migrations DATABASE_URL lacks, each atomically, then exit.",
    )
    commands.add_parser(
        "check",
        help="validate the settings and the funnel file, and print a summary",
        description=(
            "Validate the settings and FUNNEL_FILE without starting anything; "
            "print what the bot would run with."
        ),
    )
    commands.add_parser(
        "demo",
        help="play a scripted conversation with the real bot in an offline sandbox",
        description=(
            "Start the sandbox Telegram on loopback, run the real bot against it, play a "
            "scripted conversation and print what the bot said and what it recorded."
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_dispatch(args.command, sys.stdout))
    except Failure as failure:
        for line in failure.lines:
            print(f"funnelbot: {line}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _dispatch(command: str, out: TextIO) -> int:
    settings = _settings()
    quiet = command in {"demo", "check"} or (command == "run" and settings.demo_mode)
    configure_logging(
        "WARNING" if quiet else settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secrets()
    )
    try:
        if command == "migrate":
            await _migrate(settings, out)
        elif command == "check":
            _check(settings, out)
        elif command == "demo" or settings.demo_mode:
            if command == "run":
                out.write(
                    "BOT_TOKEN is not set, so this is the offline demo. To run the real bot, "
                    "put BOT_TOKEN=<token from @BotFather> in .env (see .env.example).\n\n"
                )
            await run_demo(_definition(settings), out)
        else:
            stop = asyncio.Event()
            stop_on_signals(stop)
            await serve(settings, SystemClock(), stop)
    except (StoreUnavailable, MigrationError) as error:
        raise Failure(str(error)) from None
    except DefinitionError as error:
        raise Failure(*error.lines()) from None
    except TelegramUnauthorizedError:
        raise Failure("Telegram refused BOT_TOKEN (401 Unauthorized): check the token") from None
    except TelegramNetworkError as error:
        raise Failure(f"cannot reach the Bot API at TELEGRAM_API_URL: {error.message}") from None
    except TelegramAPIError as error:
        raise Failure(
            f"the Bot API refused {error.method.__api_method__}: {error.message}"
        ) from None
    except OSError as error:
        raise Failure(f"cannot start: {error.strerror or error}") from None
    return 0


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(*error.lines) from None


def _definition(settings: Settings) -> FunnelDefinition:
    return load_definition(settings.FUNNEL_FILE)


async def _migrate(settings: Settings, out: TextIO) -> None:
    store = await open_database(settings.DATABASE_URL, SystemClock(), migrate=False)
    try:
        applied = await store.migrate(discover(migrations_dir()))
    finally:
        await store.close()
    if applied:
        for migration in applied:
            out.write(f"applied {migration.name}\n")
    else:
        out.write("the database is up to date\n")


def _check(settings: Settings, out: TextIO) -> None:
    definition = _definition(settings)
    mode = (
        "offline demo (no BOT_TOKEN)"
        if settings.demo_mode
        else f"webhook at {settings.PUBLIC_URL}"
        if settings.webhook_mode
        else "long polling"
    )
    out.write("Settings are valid.\n")
    out.write(f"  mode:        {mode}\n")
    out.write(f"  Bot API:     {settings.TELEGRAM_API_URL}\n")
    out.write(f"  database:    {settings.DATABASE_URL}\n")
    out.write(f"  web server:  {settings.HTTP_HOST}:{settings.HTTP_PORT}\n")
    out.write(f"  admins:      {len(settings.ADMIN_IDS) or 'none configured'}\n")
    out.write(f"  shop zone:   {settings.SHOP_TIMEZONE}\n")
    out.write(f"Funnel file {settings.FUNNEL_FILE} is valid.\n")
    out.write(
        f"  languages:   {', '.join(definition.languages)} "
        f"(default {definition.default_language})\n"
    )
    out.write("  stages:\n")
    for number, stage in enumerate(definition.stages, start=1):
        reached_by = ", ".join(stage.events)
        nth = f" (occurrence {stage.occurrence})" if stage.occurrence > 1 else ""
        out.write(f"    {number}. {stage.name:<10} ← {reached_by}{nth}\n")
    out.write(f"  templates:   {', '.join(sorted(definition.templates))}\n")
