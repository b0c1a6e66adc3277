"""The funnelbot command: its arguments, and turning every failure into one line.

Every failure a user can cause ends in one line that names the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)

from bot import commands
from bot.commands import Failure
from bot.logging import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from funnel.definition import DefinitionError
from funnel.report import BREAKDOWNS, MODES
from funnel.report_args import QueryError, parse_window
from funnel.store.base import StoreUnavailable
from funnel.store.migrations import MigrationError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Commands whose output is the point: only warnings and errors are logged while they run.
_QUIET = {
    "check", "demo", "import", "report", "chart", "rebuild", "links", "coupons", "replay",
}  # fmt: skip


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _window(text: str) -> int:
    try:
        return parse_window(text)
    except QueryError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", type=_day, help="first day, YYYY-MM-DD")
    parser.add_argument(
        "--to", dest="last", type=_day, help="last day, YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--mode", choices=MODES, default=MODES[0], help="default: cohort")
    parser.add_argument(
        "--window", type=_window, help="conversion window such as 30d (default: the setting)"
    )
    parser.add_argument("--by", choices=BREAKDOWNS, help="break the funnel down by this")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="funnelbot",
        description=(
            "A Telegram bot that runs an online shop's sales funnel and shows the owner "
            "where customers are lost. Settings come from the environment and .env."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "run",
        help="run the bot (the offline demo when BOT_TOKEN is empty)",
        description=(
            "Migrate the database, then run the bot and its web server in one process: "
            "long polling by default, Telegram's webhook when PUBLIC_URL is set. "
            "Without BOT_TOKEN it runs the offline demo instead."
        ),
    )
    sub.add_parser(
        "migrate",
        help="apply pending database migrations and exit",
        description="Apply the migrations DATABASE_URL lacks, each atomically, then exit.",
    )
    sub.add_parser(
        "check",
        help="validate the settings and the funnel file, and print a summary",
        description=(
            "Validate the settings and FUNNEL_FILE without starting anything; "
            "print what the bot would run with."
        ),
    )
    sub.add_parser(
        "demo",
        help="play a scripted conversation with the real bot in an offline sandbox",
        description=(
            "Start the sandbox Telegram on loopback, run the real bot against it, play a "
            "scripted conversation and print what the bot said and what it recorded."
        ),
    )
    importing = sub.add_parser(
        "import",
        help="load past funnel events from a JSON Lines or CSV export",
        description=(
            "Load past funnel events. Columns: customer (tg:<id> for Telegram users), event, "
            "occurred_at (ISO 8601 with offset), and optionally source, platform, id and "
            "properties (a JSON object). A .csv file is read as CSV, anything else as JSON "
            "Lines. Importing a file twice changes nothing. If any row is invalid, nothing "
            "is imported unless --skip-invalid is given."
        ),
    )
    importing.add_argument("file", type=Path, metavar="FILE")
    importing.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows, report the rest"
    )
    report = sub.add_parser(
        "report",
        help="print the funnel: conversion, drop-off and time per stage",
        description=(
            "The funnel for a period: by cohort (customers who started in it, followed "
            "through the window) or by calendar (events in it). Dates are in SHOP_TIMEZONE."
        ),
    )
    _report_arguments(report)
    report.add_argument("--json", action="store_true", help="print one JSON object")
    chart = sub.add_parser(
        "chart", help="draw the funnel as a PNG", description="Draw the report as a PNG chart."
    )
    _report_arguments(chart)
    chart.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    coupons = sub.add_parser(
        "coupons",
        help="manage coupon pools",
        description="Coupon pools: codes created in the shop, handed out once each.",
    )
    coupon_commands = coupons.add_subparsers(dest="coupons", required=True, metavar="ACTION")
    load = coupon_commands.add_parser(
        "load",
        help="load codes into a pool, one a line",
        description="Add codes (one a line) to a pool; codes already known are skipped.",
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--pool", required=True, help="the pool, as a magnet's coupon_pool names")
    sub.add_parser(
        "links",
        help="print the deep link for every magnet and source",
        description=(
            "Print the t.me link for every magnet × source in FUNNEL_FILE. With BOT_TOKEN set, "
            "the bot's username comes from Telegram."
        ),
    )
    replay = sub.add_parser(
        "replay",
        help="process failed webhook deliveries again, once their cause is fixed",
        description=(
            "Process a failed webhook delivery (by its inbox id, as /webhooks shows it) or "
            "every failed one again, now. Deliveries that fail again stay failed."
        ),
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?", metavar="ID", help="the delivery's inbox id")
    which.add_argument("--failed", action="store_true", help="every failed delivery")
    sub.add_parser(
        "rebuild",
        help="recompute funnel progress after the stage definitions change",
        description="Recompute every customer's funnel progress from the event log.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings()
        configure_logging(
            "WARNING" if args.command in _QUIET else settings.LOG_LEVEL,
            settings.LOG_FORMAT,
            settings.secrets(),
        )
        return asyncio.run(_run(args, settings))
    except Failure as failure:
        for line in failure.lines:
            print(f"funnelbot: {line}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        await commands.run(args, settings, sys.stdout)
    except (StoreUnavailable, MigrationError) as error:
        raise Failure(str(error)) from None
    except DefinitionError as error:
        raise Failure(*error.lines()) from None
    except QueryError as error:
        raise Failure(str(error)) from None
    except TelegramUnauthorizedError:
        raise Failure("Telegram refused BOT_TOKEN (401 Unauthorized): check the token") from None
    except TelegramNetworkError as error:
        raise Failure(f"cannot reach the Bot API at TELEGRAM_API_URL: {error.message}") from None
    except TelegramAPIError as error:
        raise Failure(
            f"the Bot API refused {error.method.__api_method__}: {error.message}"
        ) from None
    except OSError as error:
        raise Failure(f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")) from None
    return 0


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(*error.lines) from None
