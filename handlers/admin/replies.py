"""Shaping report text for Telegram: monospace blocks, within one message's length."""

from __future__ import annotations

import html

from aiogram.filters import CommandObject
from aiogram.types import Message

from funnel.clock import Clock
from funnel.report import Query
from funnel.report_args import USAGE, QueryError, parse_query
from funnel.reporting import ReportDefaults

MESSAGE_LIMIT = 4096
DEFAULT_DAYS = 30
MAX_DAYS = 366


def block(caption: str, body: str) -> str:
    return f"<b>{html.escape(caption)}</b>\n<pre>{html.escape(body)}</pre>"


def messages(blocks: list[str]) -> list[str]:
    """Blocks packed into as few messages as fit Telegram's limit."""
    out: list[str] = []
    for item in blocks:
        if out and len(out[-1]) + 2 + len(item) <= MESSAGE_LIMIT:
            out[-1] += "\n\n" + item
        else:
            out.append(item)
    return out


def usage(problem: str, command: str = "report") -> str:
    usage_line = USAGE.replace("/report", f"/{command}", 1)
    return f"{html.escape(problem)}\nUsage: <code>{html.escape(usage_line)}</code>"


async def read_query(
    message: Message, command: CommandObject, clock: Clock, defaults: ReportDefaults
) -> Query | None:
    """The command's words as a report query; words that do not parse get the usage line."""
    today = clock.now().astimezone(defaults.zone).date()
    try:
        return parse_query((command.args or "").split(), today, defaults.window_days)
    except QueryError as error:
        await message.answer(usage(str(error), command.command))
        return None


async def read_days(message: Message, command: CommandObject, usage_line: str) -> int | None:
    """A command's optional [days]; None once the admin has been told what is wrong with it."""
    argument = (command.args or "").strip()
    if not argument:
        return DEFAULT_DAYS
    if argument.isdigit() and 1 <= int(argument) <= MAX_DAYS:
        return int(argument)
    await message.answer(f"Days must be a number from 1 to {MAX_DAYS}.\nUsage: {usage_line}")
    return None
