"""/export: the cohort's customers and the report table, as CSV documents."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from funnel.clock import Clock
from funnel.export import customers_csv, report_csv
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults, build_report, cohort_customers
from funnel.store.base import FunnelStore
from handlers.admin.replies import read_query


async def on_export(
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
    customers = await cohort_customers(store, query, report_defaults.zone)
    people = customers_csv(customers, plan.names, query.window_ms, report_defaults.zone)
    await message.answer_document(
        BufferedInputFile(people.encode(), filename=f"customers-{query.period}.csv"),
        caption=f"{len(customers)} customers who started in {query.period}",
    )
    await message.answer_document(
        BufferedInputFile(report_csv(report).encode(), filename=f"report-{query.period}.csv"),
        caption=f"The {query.mode} report for {query.period}",
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_export, Command("export"))
    return router
