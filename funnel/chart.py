"""The report as a PNG funnel chart, sized for a phone screen.

matplotlib is imported only here and only when a chart is drawn: it costs tens of megabytes.
"""

from __future__ import annotations

import io
import textwrap

from funnel.report import Report, Summary
from funnel.report_text import heading, percent

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 150
MAX_SERIES = 5
OTHER = "other"


def chart_png(report: Report) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    stages = [s.stage for s in report.total.stages]
    positions = list(range(len(stages)))[::-1]
    series = _series(report)
    height = 0.8 / len(series)
    for index, (label, summary) in enumerate(series):
        offsets = [p + 0.4 - height * (index + 0.5) for p in positions]
        counts = [s.customers for s in summary.stages]
        bars = axes.barh(offsets, counts, height=height, label=label)
        annotations = [
            f"{s.customers} · {percent(s.conversion_from_first)}" for s in summary.stages
        ]
        axes.bar_label(bars, annotations, padding=3, fontsize=7 if len(series) > 1 else 9)
    axes.set_yticks(positions, stages)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("customers")
    axes.margins(x=0.35)
    axes.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        axes.legend(title=report.query.by, fontsize=8, loc="lower right")
    figure.suptitle("\n".join(textwrap.wrap(heading(report), 48)), fontsize=10)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _series(report: Report) -> list[tuple[str, Summary]]:
    """The totals alone, or the largest breakdown values with the rest summed as 'other'."""
    if not report.breakdown:
        return [("all", report.total)]
    ranked = sorted(report.breakdown.items(), key=lambda item: -item[1].entered)
    shown = ranked[:MAX_SERIES]
    rest = ranked[MAX_SERIES:]
    if rest:
        shown.append((OTHER, _sum([summary for _, summary in rest])))
    return shown


def _sum(summaries: list[Summary]) -> Summary:
    from funnel.report import summarize

    names = tuple(s.stage for s in summaries[0].stages)
    counts = [sum(s.stages[i].customers for s in summaries) for i in range(len(names))]
    return summarize(names, counts, [None] * len(names), None)
