"""Answers report questions from the store: the segments a period needs, then the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from funnel.progress import Progress, StagePlan
from funnel.report import COHORT, Query, Report, calendar_report, cohort_report
from funnel.segments import merge_calendar, merge_cohort
from funnel.store.base import FunnelStore

DEFAULT_DROP_POINTS = 5.0


@dataclass(frozen=True, slots=True)
class ReportDefaults:
    """What the shop configured for every report: its time zone, window and alert threshold."""

    zone: ZoneInfo
    window_days: int
    compare_drop_points: float


async def build_report(
    store: FunnelStore, plan: StagePlan, query: Query, zone: ZoneInfo
) -> Report:
    first_day, last_day = query.period.utc_days(zone)
    async with store.transaction() as tx:
        if query.mode == COHORT:
            segments = await tx.cohort_segments(first_day, last_day)
        else:
            segments = await tx.calendar_segments(first_day, last_day)
    if query.mode == COHORT:
        columns = merge_cohort(segments, len(plan.names), query.by)
        return cohort_report(plan.names, columns, query, zone)
    return calendar_report(plan.names, merge_calendar(segments, query.by), query, zone)


async def cohort_customers(
    store: FunnelStore, query: Query, zone: ZoneInfo
) -> list[tuple[int, Progress]]:
    """The customers of the query's cohort with their progress, earliest first."""
    start, end = query.period.bounds_ms(zone)
    async with store.transaction() as tx:
        return await tx.progress_between(start, end)
