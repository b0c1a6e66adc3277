"""/report, /compare, /chart and /digest: the same report engine as the command line."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message, User

from funnel.chart import chart_png
from funnel.clock import Clock
from funnel.digest import digest
from funnel.progress import StagePlan
from funnel.report import Query
from funnel.report_text import comparison, render
from funnel.reporting import ReportDefaults, build_report
from funnel.store.base import FunnelStore
from handlers.admin.replies import block, messages, read_query, usage


async def on_report(
    message: Message,
    command: CommandObject,
    store: FunnelStore,
    plan: StagePlan,
    clock: Clock,
    report_defaults: ReportDefaults,
) -> None:
    query = await read_query(message, command, clock, report_defaults)
    if query is None:
        return
    report = await build_report(store, plan, query, report_defaults.zone)
    for text in messages([block(caption, body) for caption, body in render(report)]):
        await message.answer(text)


async def on_compare(
    message: Message,
    command: CommandObject,
    store: FunnelStore,
    plan: StagePlan,
    clock: Clock,
    report_defaults: ReportDefaults,
) -> None:
    query = await read_query(message, command, clock, report_defaults)
    if query is None:
        return
    # A comparison is of the whole funnel; a breakdown would not fit beside it.
    now = Query(query.period, query.mode, query.window_days)
    before = Query(query.period.previous(), query.mode, query.window_days)
    current = await build_report(store, plan, now, report_defaults.zone)
    previous = await build_report(store, plan, before, report_defaults.zone)
    text = comparison(current, previous, report_defaults.compare_drop_points)
    caption, _, body = text.partition("\n")
    await message.answer(block(caption, body))


async def on_chart(
    message: Message,
    command: CommandObject,
    store: FunnelStore,
    plan: StagePlan,
    clock: Clock,
    report_defaults: ReportDefaults,
) -> None:
    query = await read_query(message, command, clock, report_defaults)
    if query is None:
        return
    report = await build_report(store, plan, query, report_defaults.zone)
    png = chart_png(report)
    await message.answer_photo(
        BufferedInputFile(png, filename=f"funnel-{query.period}.png"),
        caption=f"Funnel {query.period} ({query.mode})",
    )


async def on_digest(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    store: FunnelStore,
    plan: StagePlan,
    clock: Clock,
    report_defaults: ReportDefaults,
) -> None:
    """/digest sends yesterday's digest now; /digest on|off chooses whether it comes daily."""
    choice = (command.args or "").strip().lower()
    if choice in ("on", "off"):
        async with store.transaction() as tx:
            await tx.set_digest(event_from_user.id, choice == "on")
        await message.answer(
            "The daily digest will come to you." if choice == "on"
            else "The daily digest will no longer come to you. /digest on brings it back."
        )  # fmt: skip
        return
    if choice:
        await message.answer(
            usage(f"{choice!r}: use /digest, /digest on or /digest off", "digest")
        )
        return
    yesterday = clock.now().astimezone(report_defaults.zone).date() - timedelta(days=1)
    await message.answer(block(*await digest(store, plan, report_defaults, yesterday)))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_report, Command("report"))
    router.message.register(on_compare, Command("compare"))
    router.message.register(on_chart, Command("chart"))
    router.message.register(on_digest, Command("digest"))
    return router
