"""The reminder policy on its own: timing, deadlines, the holdout draw, exits, attribution,
the [carts] section's checks and how amounts and times read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.commerce import CHECKOUT, COMPLETED, EMPTIED, OPEN, Item
from funnel.definition import load_definition
from funnel.formatting import item_names, moment, money
from funnel.nudges import (
    BLOCKED,
    DEADLINE,
    EMPTIED_CART,
    OPTED_OUT,
    ORDERED,
    CartRules,
    CartState,
    attributed,
    deadline,
    in_holdout,
    next_step,
    stop_reason,
)
from tests.conftest import REPO
from tests.funnel.test_definition import SHIPPED, line_of, problems

SHIPPED_RULES = load_definition(REPO / "funnel.toml").carts
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@given(
    updated=moments,
    hold=st.integers(0, 24 * 14),
    step=st.integers(0, 3),
    reserved=st.none() | st.integers(-48, 24 * 14),
)
def test_a_step_is_never_planned_at_or_after_the_deadline(
    updated: datetime, hold: int, step: int, reserved: int | None
) -> None:
    rules = SHIPPED_RULES
    abandoned = updated + rules.idle
    until = deadline(
        None if reserved is None else updated + timedelta(hours=reserved),
        abandoned,
        rules.model_copy(update={"hold": f"{hold}h"}),
    )

    planned = next_step(rules, step, updated, until)

    if planned is not None:
        assert planned.due < until
        assert planned.due >= abandoned
        assert planned.step == step


def test_the_deadline_is_the_shops_reservation_or_the_hold() -> None:
    rules = CartRules(hold="24h")
    at = datetime(2026, 9, 1, 10, tzinfo=UTC)
    reserved = at + timedelta(hours=3)

    assert deadline(reserved, at, rules) == reserved
    assert deadline(None, at, rules) == at + timedelta(hours=24)


def test_the_holdout_draw_is_stable_and_near_its_share() -> None:
    draws = [in_holdout(cart, 10) for cart in range(1, 20_001)]

    assert 0.09 < sum(draws) / len(draws) < 0.11
    assert draws == [in_holdout(cart, 10) for cart in range(1, 20_001)]
    assert not any(in_holdout(cart, 0) for cart in range(1, 1_001))


@given(
    status=st.sampled_from([OPEN, CHECKOUT, COMPLETED, EMPTIED]),
    ordered=st.booleans(),
    opted_out=st.booleans(),
    blocked=st.booleans(),
    left_ms=st.integers(-(10**9), 10**9),
)
def test_a_series_goes_on_only_while_nothing_ends_it(
    status: str, ordered: bool, opted_out: bool, blocked: bool, left_ms: int
) -> None:
    now = 1_800_000_000_000
    state = CartState(status, ordered, now + left_ms, opted_out, blocked)

    reason = stop_reason(state, now)

    free = status in (OPEN, CHECKOUT) and not (ordered or opted_out or blocked) and left_ms > 0
    assert (reason is None) == free
    if status == COMPLETED or ordered:
        assert reason == ORDERED
    elif status == EMPTIED:
        assert reason == EMPTIED_CART
    elif left_ms <= 0:
        assert reason == DEADLINE
    elif blocked:
        assert reason == BLOCKED
    elif opted_out:
        assert reason == OPTED_OUT


def test_an_order_counts_between_the_first_reminder_and_the_window_after_the_last() -> None:
    window = timedelta(hours=72)
    first, last = 1_000, 5_000
    end = last + 72 * 3_600_000

    assert not attributed(first - 1, first, last, window)
    assert attributed(first, first, last, window)
    assert attributed(end, first, last, window)
    assert not attributed(end + 1, first, last, window)
    assert not attributed(first, None, None, window)


def test_a_reminder_naming_what_a_cart_lacks_is_pointed_at() -> None:
    text = SHIPPED.replace("It's held for you until {deadline}.", "Hi {first_name}!")

    [problem] = problems(text)

    line = line_of(text, "Hi {first_name}!")
    assert problem == (
        f"funnel.toml:{line}: carts.nudges[0].text.en: unknown placeholder {{first_name}}; "
        "it can use amount, deadline, items"
    )


def test_a_code_needs_a_coupon_and_steps_go_forward_in_time() -> None:
    text = SHIPPED.replace('coupon = "cart_rescue"\n', "").replace('after = "20h"', 'after = "1h"')

    found = problems(text)

    assert any("carts.nudges[1].after: reminders must come later" in p for p in found)
    assert any("carts.nudges[1].text.ru: unknown placeholder {code}" in p for p in found)


def test_a_reminders_coupon_must_be_a_coupon_magnet() -> None:
    text = SHIPPED.replace('coupon = "cart_rescue"', 'coupon = "tea_guide"')

    [problem] = problems(text)

    assert problem.endswith("carts.nudges[1].coupon: 'tea_guide' is not a coupon magnet")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "shown"),
    [
        ("1990.00", "RUB", "ru", "1\xa0990,00\xa0₽"),
        ("1990.00", "RUB", "en", "RUB1,990.00"),
        ("19.9", "EUR", "en", "€19.90"),
        ("19.9", None, "en", "19.9"),
        ("19.9", "XQQ", "en", "XQQ19.90"),
        ("n/a", "RUB", "en", "n/a"),
        (None, "RUB", "en", ""),
    ],
)
def test_amounts_read_as_the_language_writes_them(
    amount: str | None, currency: str | None, language: str, shown: str
) -> None:
    assert money(amount, currency, language) == shown


def test_a_moment_names_its_zone_when_the_customer_chose_none() -> None:
    at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    moscow = ZoneInfo("Europe/Moscow")

    assert moment(at, moscow, "ru", name_zone=False) == "1 декабря, 18:00"
    assert moment(at, moscow, "en", name_zone=True) == "1 December, 18:00 (Moscow)"


@given(st.lists(st.text(min_size=1, max_size=300), max_size=8))
def test_item_names_stay_short(names: list[str]) -> None:
    items = [Item(name, 1) for name in names]

    text = item_names(items, lambda n: f"and {n} more")

    shown = min(len(names), 3)
    assert len(text) <= shown * 42 + len(" and 5 more")
    if len(names) > 3:
        assert text.endswith(f"and {len(names) - 3} more")
