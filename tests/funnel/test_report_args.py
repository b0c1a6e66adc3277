"""The words of /report: periods, breakdowns, modes and windows."""

from __future__ import annotations

from contextlib import suppress
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.report import Period, Query
from funnel.report_args import QueryError, parse_query
from funnel.report_text import duration, percent

TODAY = date(2026, 11, 30)


def query(text: str) -> Query:
    return parse_query(text.split(), TODAY, 30)


def test_the_default_is_the_last_seven_days_by_cohort() -> None:
    assert query("") == Query(Period(date(2026, 11, 24), TODAY), "cohort", 30, None)


@pytest.mark.parametrize(
    ("words", "period"),
    [
        ("today", Period(TODAY, TODAY)),
        ("yesterday", Period(date(2026, 11, 29), date(2026, 11, 29))),
        ("30d", Period(date(2026, 11, 1), TODAY)),
        ("2026-02", Period(date(2026, 2, 1), date(2026, 2, 28))),
        ("2026-11-01..2026-11-21", Period(date(2026, 11, 1), date(2026, 11, 21))),
        ("2026-11-05", Period(date(2026, 11, 5), date(2026, 11, 5))),
    ],
)
def test_periods(words: str, period: Period) -> None:
    assert query(words).period == period


def test_options_in_any_order() -> None:
    assert query("calendar by source 30d window 14d") == Query(
        Period(date(2026, 11, 1), TODAY), "calendar", 14, "source"
    )


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("by", "'by' needs a value"),
        ("by colour", "by 'colour': choose one of source, magnet"),
        ("window forever", "'forever' is not a window"),
        ("7d 30d", "'30d': only one period at a time"),
        ("2026-13", "there is no month 13"),
        ("0d", "a period of 0 days is empty"),
        ("2026-11-21..2026-11-01", "ends (2026-11-01) before it starts"),
    ],
)
def test_words_that_do_not_parse_say_why(words: str, problem: str) -> None:
    with pytest.raises(QueryError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        query(words)


@given(st.lists(st.text(max_size=12), max_size=5))
def test_any_words_give_a_query_or_a_query_error(words: list[str]) -> None:
    with suppress(QueryError):
        parse_query(words, TODAY, 30)


def test_durations_and_percentages_are_short() -> None:
    assert [duration(s) for s in (None, 45, 720, 11_100, 187_200)] == [
        "—", "45s", "12m", "3h05m", "2d04h",
    ]  # fmt: skip
    assert [percent(p) for p in (None, 0.52, 215 / 520, 0.13, 1.0)] == [
        "—", "52%", "41.3%", "13%", "100%",
    ]  # fmt: skip
