"""/report, /compare, /chart and /digest: the same report engine as the command line."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from funnel.chart import chart_png
from funnel.clock import Clock
from funnel.progress import StagePlan
from funnel.report import CALENDAR, Query
from funnel.report_args import parse_period
from funnel.report_text import comparison, footer, render, table
from funnel.reporting import ReportDefaults, build_report
from funnel.store.base import FunnelStore
from handlers.admin.replies import block, messages, read_query


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
    store: FunnelStore,
    plan: StagePlan,
    clock: Clock,
    report_defaults: ReportDefaults,
) -> None:
    today = clock.now().astimezone(report_defaults.zone).date()
    yesterday = parse_period("yesterday", today)
    query = Query(yesterday, CALENDAR, report_defaults.window_days)
    report = await build_report(store, plan, query, report_defaults.zone)
    before = await build_report(
        store, plan, Query(yesterday.previous(), CALENDAR, query.window_days), report_defaults.zone
    )
    caption = f"Digest for {yesterday.first:%A, %d %B %Y}"
    body = table(report.total) + "\n\n" + footer(report.total)
    started_change = report.total.entered - before.total.entered
    body += f"\nStarted: {report.total.entered} ({started_change:+d} on the day before)"
    await message.answer(block(caption, body))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_report, Command("report"))
    router.message.register(on_compare, Command("compare"))
    router.message.register(on_chart, Command("chart"))
    router.message.register(on_digest, Command("digest"))
    return router
