"""The words of /report and its siblings: a period, a breakdown, a mode and a window."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from funnel.report import BREAKDOWNS, MODES, Period, Query

USAGE = (
    "/report [today|yesterday|7d|30d|2026-11|2026-11-01..2026-11-21] "
    f"[by {'|'.join(BREAKDOWNS)}] [cohort|calendar] [window 30d]"
)
DEFAULT_PERIOD = "7d"

_DAYS = re.compile(r"(\d{1,4})d")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class QueryError(ValueError):
    """The words do not make a report query; the message says which word and why."""


def parse_period(word: str, today: date) -> Period:
    """today, yesterday, Nd (the last N days up to today), a month, a date, or a..b."""
    try:
        if word == "today":
            return Period(today, today)
        if word == "yesterday":
            day = today - timedelta(days=1)
            return Period(day, day)
        if days := _DAYS.fullmatch(word):
            count = int(days.group(1))
            if count < 1:
                raise QueryError("a period of 0 days is empty")
            return Period(today - timedelta(days=count - 1), today)
        if month := _MONTH.fullmatch(word):
            year, number = int(month.group(1)), int(month.group(2))
            if not 1 <= number <= 12:
                raise QueryError(f"{word!r}: there is no month {number}")
            month_days = calendar.monthrange(year, number)[1]
            return Period(date(year, number, 1), date(year, number, month_days))
        if ".." in word:
            start, end = word.split("..", 1)
            return Period(date.fromisoformat(start), date.fromisoformat(end))
        return Period(date.fromisoformat(word), date.fromisoformat(word))
    except QueryError:
        raise
    except ValueError as error:
        raise QueryError(f"{word!r} is not a period: {error}") from None


def parse_window(word: str) -> int:
    days = _DAYS.fullmatch(word) or re.fullmatch(r"(\d{1,4})", word)
    if days is None or not 1 <= int(days.group(1)) <= 3650:
        raise QueryError(f"{word!r} is not a window: use a number of days such as 30d")
    return int(days.group(1))


def parse_query(words: list[str], today: date, window_days: int) -> Query:
    period: Period | None = None
    mode, by, window = MODES[0], None, window_days
    remaining = [word.lower() for word in words]
    while remaining:
        word = remaining.pop(0)
        if word in MODES:
            mode = word
        elif word in ("by", "window"):
            if not remaining:
                raise QueryError(f"{word!r} needs a value")
            value = remaining.pop(0)
            if word == "window":
                window = parse_window(value)
            elif value not in BREAKDOWNS:
                raise QueryError(f"by {value!r}: choose one of {', '.join(BREAKDOWNS)}")
            else:
                by = value
        elif period is None:
            period = parse_period(word, today)
        else:
            raise QueryError(f"{word!r}: only one period at a time")
    return Query(period or parse_period(DEFAULT_PERIOD, today), mode, window, by)
