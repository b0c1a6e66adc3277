"""Reports as monospace text narrow enough for a phone, for the chat and the terminal alike."""

from __future__ import annotations

from collections.abc import Sequence

from funnel.report import CALENDAR, Report, StageFigures, Summary

DASH = "—"


def percent(value: float | None) -> str:
    if value is None:
        return DASH
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def duration(seconds: float | None) -> str:
    """A short human duration: 45s, 12m, 3h05m, 2d04h."""
    if seconds is None:
        return DASH
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, _ = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def heading(report: Report) -> str:
    query = report.query
    if query.mode == CALENDAR:
        return f"Calendar {query.period}: events in the period (counts mix cohorts)"
    return f"Cohort {query.period}: customers who started then, followed for {query.window_days} d"


def table(summary: Summary) -> str:
    """Per stage: customers, conversion from the previous and from the first, drop, median."""
    header = ("stage", "cust", "prev", "first", "drop", "time")
    return _aligned([header] + [_cells(i, figures) for i, figures in enumerate(summary.stages)])


def _aligned(rows: Sequence[Sequence[str]]) -> str:
    """The first column left-aligned, the rest right-aligned, one space apart."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return "\n".join(
        " ".join(
            cell.ljust(width) if col == 0 else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def _cells(index: int, figures: StageFigures) -> tuple[str, ...]:
    return (
        figures.stage,
        str(figures.customers),
        percent(figures.conversion_from_previous),
        percent(figures.conversion_from_first),
        str(figures.dropped) if index else DASH,
        duration(figures.median_seconds_from_previous),
    )


def footer(summary: Summary) -> str:
    if summary.entered == 0:
        return "No customers in this period."
    lines = [f"Overall conversion: {percent(summary.overall)}"]
    if summary.median_funnel_seconds is not None:
        lines.append(f"Median funnel length: {duration(summary.median_funnel_seconds)}")
    drop = summary.biggest_drop()
    if drop is not None and drop.dropped > 0:
        lines.append(
            f"Biggest drop: before {drop.stage} ({drop.dropped} lost, "
            f"{percent(drop.conversion_from_previous)} moved on)"
        )
    return "\n".join(lines)


def render(report: Report) -> list[tuple[str, str]]:
    """(caption, table) blocks: the totals, then one per breakdown value."""
    blocks = [(heading(report), table(report.total) + "\n\n" + footer(report.total))]
    for value, summary in report.breakdown.items():
        blocks.append((f"{report.query.by} = {value}", table(summary)))
    return blocks


def plain(report: Report) -> str:
    """The whole report as terminal text."""
    return "\n\n".join(f"{caption}\n{body}" for caption, body in render(report)) + "\n"


def comparison(current: Report, previous: Report, drop_points: float) -> str:
    """Each stage's conversion from the one before, now against the previous period."""
    rows = [("stage", "now", "before", "change")]
    flagged = []
    for now, then in zip(current.total.stages[1:], previous.total.stages[1:], strict=True):
        change = _points(now.conversion_from_previous, then.conversion_from_previous)
        mark = ""
        if change is not None and -change > drop_points:
            mark = " !"
            flagged.append(now.stage)
        rows.append(
            (
                now.stage,
                percent(now.conversion_from_previous),
                percent(then.conversion_from_previous),
                (DASH if change is None else f"{change:+.1f}") + mark,
            )
        )
    caption = (
        f"{current.query.period} against {previous.query.period} ({current.query.mode}): "
        "conversion from the previous stage, change in percentage points"
    )
    verdict = (
        f"Fell more than {drop_points:g} points: {', '.join(flagged)}"
        if flagged
        else f"No stage fell more than {drop_points:g} points."
    )
    return f"{caption}\n{_aligned(rows)}\n\n{verdict}"


def _points(now: float | None, then: float | None) -> float | None:
    if now is None or then is None:
        return None
    return (now - then) * 100
