"""The marketing policy and quiet hours, with times chosen by hand and by hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.digest import next_local
from funnel.events import epoch_ms
from funnel.outbox import (
    CANCELLED,
    EXPIRED,
    MARKETING,
    TRANSACTIONAL,
    Due,
    End,
    Policy,
    Postpone,
    QuietHours,
    Recipient,
    Send,
    backoff_ms,
    decide,
)

MOSCOW = ZoneInfo("Europe/Moscow")
QUIET = QuietHours.parse("22:00-09:00")
POLICY = Policy(QUIET, marketing_cap=3, shop_zone=MOSCOW)
HOUR = 3_600_000


def at(text: str) -> int:
    return epoch_ms(datetime.fromisoformat(text))


def someone(**changes: object) -> Recipient:
    base = {"blocked": False, "opted_out": False, "time_zone": None, "marketing_sent_ms": ()}
    return Recipient(**{**base, **changes})  # type: ignore[arg-type]


MARKETING_DUE = Due(MARKETING, quiet_hours=True, expires_ms=None)
NOON = at("2026-11-30T12:00:00+03:00")


def test_a_marketing_message_goes_by_day() -> None:
    assert decide(MARKETING_DUE, someone(), NOON, POLICY) == Send()


def test_quiet_hours_postpone_to_the_next_allowed_minute_in_the_customers_zone() -> None:
    late = at("2026-11-30T23:10:00+03:00")

    assert decide(MARKETING_DUE, someone(), late, POLICY) == Postpone(
        at("2026-12-01T09:00:00+03:00"), "quiet hours"
    )
    # 23:10 in Moscow is 21:10 in Berlin: not quiet there.
    assert decide(MARKETING_DUE, someone(time_zone="Europe/Berlin"), late, POLICY) == Send()


def test_a_postponement_past_the_deadline_expires_the_message() -> None:
    due = Due(MARKETING, True, expires_ms=at("2026-12-01T08:00:00+03:00"))

    decision = decide(due, someone(), at("2026-11-30T23:10:00+03:00"), POLICY)

    assert decision == End(EXPIRED, "quiet hours last past its deadline")


def test_the_cap_counts_a_rolling_day() -> None:
    sent = (NOON - 20 * HOUR, NOON - 5 * HOUR, NOON - HOUR)

    decision = decide(MARKETING_DUE, someone(marketing_sent_ms=sent), NOON, POLICY)

    # The oldest send turns a day old at 16:00, outside quiet hours.
    assert decision == Postpone(NOON + 4 * HOUR, "the daily marketing cap is reached")


def test_transactional_ignores_the_cap_and_the_opt_out_but_not_a_block() -> None:
    due = Due(TRANSACTIONAL, quiet_hours=False, expires_ms=None)
    capped = someone(opted_out=True, marketing_sent_ms=(NOON - HOUR,) * 5)

    assert decide(due, capped, at("2026-11-30T23:30:00+03:00"), POLICY) == Send()
    assert decide(due, someone(blocked=True), NOON, POLICY) == End(
        CANCELLED, "the customer blocked the bot"
    )


def test_opted_out_customers_get_no_marketing() -> None:
    assert decide(MARKETING_DUE, someone(opted_out=True), NOON, POLICY) == End(
        CANCELLED, "the customer opted out of marketing"
    )


def test_a_message_past_its_deadline_expires() -> None:
    due = Due(TRANSACTIONAL, False, expires_ms=NOON - 1)

    assert decide(due, someone(), NOON, POLICY) == End(
        EXPIRED, "its deadline passed before it could be sent"
    )


@given(
    moment=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
)
def test_the_next_allowed_time_is_never_earlier_and_never_quiet(
    moment: datetime, zone: str
) -> None:
    allowed = QUIET.next_allowed(moment, ZoneInfo(zone))

    assert allowed >= moment
    assert not QUIET.contains(allowed.astimezone(ZoneInfo(zone)).time())
    assert allowed - moment <= timedelta(hours=11, minutes=1)


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("22:00-09:00", time(23, 0), time(12, 0)),
    ("13:00-14:00", time(13, 30), time(14, 0)),
])  # fmt: skip
def test_quiet_windows_within_a_day_or_across_midnight(
    text: str, inside: time, outside: time
) -> None:
    window = QuietHours.parse(text)

    assert window.contains(inside) and not window.contains(outside)


def test_the_digest_time_follows_the_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks go back on 25 October 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    first = next_local(datetime(2026, 10, 24, 8, 0, tzinfo=UTC), time(9, 0), berlin)
    second = next_local(first, time(9, 0), berlin)

    assert first == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert second == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert next_local(datetime(2026, 10, 24, 6, 0, tzinfo=UTC), time(9, 0), berlin) == (
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    )


@given(st.integers(1, 30), st.floats(0, 0.999))
def test_backoff_grows_and_stays_bounded(attempt: int, jitter: float) -> None:
    delay = backoff_ms(attempt, jitter)

    assert 500 <= delay < 1_000 * 2**10 * 1.5
    assert backoff_ms(attempt + 1, jitter) >= delay
