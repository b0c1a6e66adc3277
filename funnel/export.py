"""CSV exports: one row per customer of a cohort, and the report table itself."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from funnel.events import from_epoch_ms
from funnel.progress import Progress
from funnel.report import Report, StageFigures

FIGURES = (
    "customers",
    "conversion_from_previous",
    "conversion_from_first",
    "dropped",
    "median_seconds_from_previous",
)


def customers_csv(
    rows: list[tuple[int, Progress]], stages: tuple[str, ...], window_ms: int, zone: ZoneInfo
) -> str:
    """Each stage's first time in order, within the window, in the shop's time zone."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer", "source", "magnet", "platform", "returning", *stages])
    for customer, progress in rows:
        times = [progress.started_ms] + [
            t for t in progress.chain if t - progress.started_ms <= window_ms
        ]
        cells = [from_epoch_ms(t).astimezone(zone).isoformat() for t in times]
        cells += [""] * (len(stages) - len(cells))
        writer.writerow(
            [
                customer,
                progress.source,
                progress.magnet,
                progress.platform,
                "yes" if progress.returning else "no",
                *cells,
            ]
        )
    return out.getvalue()


def report_csv(report: Report) -> str:
    """The report's figures, unrounded: the totals, then each breakdown value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["mode", "from", "to", "window_days", "group", "stage", *FIGURES])
    query = report.query
    prefix = [query.mode, query.period.first, query.period.last, query.window_days]
    groups = [("all", report.total), *report.breakdown.items()]
    for group, summary in groups:
        for figures in summary.stages:
            writer.writerow([*prefix, group, figures.stage, *_cells(figures)])
    return out.getvalue()


def _cells(figures: StageFigures) -> list[object]:
    values = [getattr(figures, name) for name in FIGURES]
    return ["" if value is None else value for value in values]
