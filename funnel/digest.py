"""The daily digest: yesterday's funnel by calendar, its biggest drop, and when the next is due."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from funnel.progress import StagePlan
from funnel.report import CALENDAR, Period, Query
from funnel.report_text import footer, table
from funnel.reporting import ReportDefaults, build_report
from funnel.store.base import FunnelStore

DIGEST_JOB = "digest"
DIGEST_KEY = "digest:daily"
DIGEST_TEMPLATE = "admin.digest"


async def digest(
    store: FunnelStore, plan: StagePlan, defaults: ReportDefaults, day: date
) -> tuple[str, str]:
    """(caption, body) for the day: its funnel and the change in starts from the day before."""
    period = Period(day, day)
    report = await build_report(
        store, plan, Query(period, CALENDAR, defaults.window_days), defaults.zone
    )
    before = await build_report(
        store, plan, Query(period.previous(), CALENDAR, defaults.window_days), defaults.zone
    )
    change = report.total.entered - before.total.entered
    body = table(report.total) + "\n\n" + footer(report.total)
    body += f"\nStarted: {report.total.entered} ({change:+d} on the day before)"
    return f"Digest for {day:%A, %d %B %Y}", body


def next_local(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first moment after `after` whose wall-clock time in the zone is `at`."""
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return candidate
