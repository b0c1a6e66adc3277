"""Funnel reports: counts, conversions, drop-off and time per stage, by cohort or by calendar.

Cohort: the customers whose first stage falls in the period, each followed through the stages in
order within the conversion window. Calendar: per stage, the distinct customers whose event for
it happened in the period, whatever came before (so counts mix cohorts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from funnel.segments import DAY_MS, Attributes, CalendarColumns, CohortColumns

COHORT = "cohort"
CALENDAR = "calendar"
MODES = (COHORT, CALENDAR)
BREAKDOWNS = ("source", "magnet", "platform", "new_vs_returning")
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive calendar dates in the shop's time zone."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds_ms(self, zone: ZoneInfo) -> tuple[int, int]:
        """[start, end) in milliseconds since the epoch: local midnights, DST included."""
        start = datetime.combine(self.first, time(0), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone)
        return int(start.timestamp() * 1000), int(end.timestamp() * 1000)

    def utc_days(self, zone: ZoneInfo) -> tuple[int, int]:
        start, end = self.bounds_ms(zone)
        return start // DAY_MS, (end - 1) // DAY_MS

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


@dataclass(frozen=True, slots=True)
class Query:
    period: Period
    mode: str = COHORT
    window_days: int = DEFAULT_WINDOW_DAYS
    by: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be cohort or calendar, not {self.mode!r}")
        if self.by is not None and self.by not in BREAKDOWNS:
            raise ValueError(f"a breakdown is by {', '.join(BREAKDOWNS)}, not {self.by!r}")
        if not 1 <= self.window_days <= 3650:
            raise ValueError("the window must be from 1 to 3650 days")

    @property
    def window_ms(self) -> int:
        return self.window_days * DAY_MS


@dataclass(frozen=True, slots=True)
class StageFigures:
    stage: str
    customers: int
    conversion_from_previous: float | None
    conversion_from_first: float | None
    dropped: int
    median_seconds_from_previous: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "customers": self.customers,
            "conversion_from_previous": self.conversion_from_previous,
            "conversion_from_first": self.conversion_from_first,
            "dropped": self.dropped,
            "median_seconds_from_previous": self.median_seconds_from_previous,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    stages: list[StageFigures]
    median_funnel_seconds: float | None

    @property
    def entered(self) -> int:
        return self.stages[0].customers

    @property
    def overall(self) -> float | None:
        return _ratio(self.stages[-1].customers, self.stages[0].customers)

    def biggest_drop(self) -> StageFigures | None:
        """The stage with the lowest conversion from the one before it."""
        candidates = [s for s in self.stages[1:] if s.conversion_from_previous is not None]
        return min(candidates, key=lambda s: s.conversion_from_previous or 0.0, default=None)


@dataclass(frozen=True, slots=True)
class Report:
    query: Query
    total: Summary
    breakdown: dict[str, Summary] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "mode": self.query.mode,
            "from": self.query.period.first.isoformat(),
            "to": self.query.period.last.isoformat(),
            "window_days": self.query.window_days,
            "stages": [s.as_json() for s in self.total.stages],
        }
        if self.query.by is not None:
            body["breakdown"] = {
                value: [s.as_json() for s in summary.stages]
                for value, summary in self.breakdown.items()
            }
        return body


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def summarize(
    names: tuple[str, ...],
    counts: list[int],
    medians: list[float | None],
    funnel_median: float | None,
) -> Summary:
    stages = [
        StageFigures(
            stage=name,
            customers=count,
            conversion_from_previous=None if i == 0 else _ratio(count, counts[i - 1]),
            conversion_from_first=_ratio(count, counts[0]),
            dropped=0 if i == 0 else counts[i - 1] - count,
            median_seconds_from_previous=medians[i],
        )
        for i, (name, count) in enumerate(zip(names, counts, strict=True))
    ]
    return Summary(stages, funnel_median)


def _median_seconds(values_ms: npt.NDArray[np.int64]) -> float | None:
    # The median of an even count is the mean of the two middle values.
    return float(np.median(values_ms)) / 1000 if values_ms.size else None


def _group_codes(attributes: Attributes, by: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each row's breakdown value as a code, and the values' labels."""
    if by == "new_vs_returning":
        return attributes.returning.astype(np.int64), ["new", "returning"]
    return attributes.codes[by].astype(np.int64), attributes.labels[by]


def _largest_first(groups: dict[str, Summary]) -> dict[str, Summary]:
    return dict(sorted(groups.items(), key=lambda item: (-item[1].entered, item[0])))


def _ranked_summary(
    names: tuple[str, ...], ranked: npt.NDArray[np.int64], depth: npt.NDArray[np.int64]
) -> Summary:
    """A summary of rows sorted by depth, deepest first, so each stage's rows are a prefix."""
    stages = len(names)
    # counts[i]: the rows that reached stage i, i.e. whose depth is at least i.
    at_least = np.bincount(depth, minlength=stages)[::-1].cumsum()[::-1]
    counts = [int(ranked.shape[0]), *(int(c) for c in at_least[1:stages])]
    medians: list[float | None] = [None]
    for stage in range(1, stages):
        reached = ranked[: counts[stage]]
        previous = reached[:, stage - 2] if stage > 1 else 0
        medians.append(_median_seconds(reached[:, stage - 1] - previous))
    past_first = ranked[: counts[1]] if stages > 1 else ranked[:0]
    lengths = past_first[np.arange(past_first.shape[0]), depth[: past_first.shape[0]] - 1]
    return summarize(names, counts, medians, _median_seconds(lengths))


def cohort_report(
    names: tuple[str, ...], columns: CohortColumns, query: Query, zone: ZoneInfo
) -> Report:
    start, end = query.period.bounds_ms(zone)
    in_period = (columns.started >= start) & (columns.started < end)
    # Segments are whole UTC days: only a period's edges can hold rows outside it.
    offsets = columns.offsets if in_period.all() else columns.offsets[in_period]
    # Reach times never decrease along the chain, so the stages within the window are a
    # prefix of it, and its length (the depth) says which stages a customer counts for.
    depth = ((offsets >= 0) & (offsets <= query.window_ms)).sum(axis=1).astype(np.int64)
    order = np.argsort(-depth, kind="stable")
    total = _ranked_summary(names, offsets[order], depth[order])
    breakdown: dict[str, Summary] = {}
    if query.by is not None:
        codes, labels = _group_codes(columns.attributes.take(in_period), query.by)
        order = np.lexsort((-depth, codes))
        ranked, ranked_depth, ranked_codes = offsets[order], depth[order], codes[order]
        bounds = np.searchsorted(ranked_codes, np.arange(len(labels) + 1))
        for code, label in enumerate(labels):
            rows = slice(int(bounds[code]), int(bounds[code + 1]))
            if rows.stop > rows.start:
                breakdown[label] = _ranked_summary(names, ranked[rows], ranked_depth[rows])
    return Report(query, total, _largest_first(breakdown))


def _distinct_counts(
    stage: npt.NDArray[np.int8],
    customer: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    stages: int,
    groups: int,
) -> npt.NDArray[np.int64]:
    """Distinct customers per (group, stage). Customer ids are dense, so a bitmap over them
    counts distinct ones without sorting; a customer's group is the same in every row."""
    size = int(customer.max()) + 1 if customer.size else 1
    seen = np.zeros(size, bool)
    group_of = np.zeros(size, np.int32)
    group_of[customer] = codes
    counts = np.zeros((groups, stages), np.int64)
    for index in range(stages):
        seen[:] = False
        seen[customer[stage == index]] = True
        if groups == 1:
            counts[0, index] = np.count_nonzero(seen)
        else:
            counts[:, index] = np.bincount(group_of[seen], minlength=groups)
    return counts


def calendar_report(
    names: tuple[str, ...], columns: CalendarColumns, query: Query, zone: ZoneInfo
) -> Report:
    start, end = query.period.bounds_ms(zone)
    in_period = (columns.at >= start) & (columns.at < end)
    stage, customer = columns.stage[in_period], columns.customer[in_period]
    stages = len(names)
    nothing: list[float | None] = [None] * stages

    def summary(counts: npt.NDArray[np.int64]) -> Summary:
        return summarize(names, [int(c) for c in counts], nothing, None)

    if query.by is None:
        counts = _distinct_counts(stage, customer, np.zeros_like(customer), stages, 1)
        return Report(query, summary(counts[0]))
    codes, labels = _group_codes(columns.attributes.take(in_period), query.by)
    per_group = _distinct_counts(stage, customer, codes, stages, len(labels))
    breakdown = {
        label: summary(per_group[code])
        for code, label in enumerate(labels)
        if per_group[code].any()
    }
    return Report(query, summary(per_group.sum(axis=0)), _largest_first(breakdown))
