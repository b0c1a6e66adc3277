"""The delivery policy on its own: storage deadlines, pickup reminder times, the amount to
pay on delivery, and the [delivery] section's checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from funnel.parcels import DeliveryRules, cod_due, pickup_times, storage_deadline
from tests.funnel.test_definition import SHIPPED, problems

RULES = DeliveryRules(storage_days={"default": 7, "cdek": 5})
MOSCOW = ZoneInfo("Europe/Moscow")
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


def test_the_storage_deadline_is_the_carriers_or_its_usual_days() -> None:
    ready = datetime(2026, 9, 10, 13, 42, tzinfo=UTC)
    named = ready + timedelta(days=3)

    assert storage_deadline(named, ready, "cdek", RULES) == named
    assert storage_deadline(None, ready, "cdek", RULES) == ready + timedelta(days=5)
    assert storage_deadline(None, ready, "ups", RULES) == ready + timedelta(days=7)


def test_reminders_come_two_days_and_one_day_before_and_on_the_last_morning() -> None:
    deadline = datetime(2026, 9, 17, 13, 42, tzinfo=UTC)  # 16:42 in Moscow
    ready = datetime(2026, 9, 10, 13, 42, tzinfo=UTC)

    times = pickup_times(deadline, ready, RULES, MOSCOW, time(9, 0))

    assert times == [
        deadline - timedelta(days=2),
        deadline - timedelta(days=1),
        datetime(2026, 9, 17, 9, 0, tzinfo=MOSCOW),
    ]


@given(deadline=moments, ahead=st.integers(-72, 24 * 14), morning=st.integers(0, 23))
def test_reminders_are_ahead_before_the_deadline_and_in_order(
    deadline: datetime, ahead: int, morning: int
) -> None:
    now = deadline - timedelta(hours=ahead)

    times = pickup_times(deadline, now, RULES, MOSCOW, time(morning))

    assert times == sorted(set(times))
    assert all(now < moment < deadline for moment in times)
    assert len(times) <= len(RULES.pickup_reminders) + 1


def test_the_amount_due_is_the_carriers_or_an_unpaid_cash_order() -> None:
    assert cod_due("1200.00", order_cod=False, order_paid=False, order_amount="99") == "1200.00"
    assert cod_due(None, order_cod=True, order_paid=False, order_amount="3650.00") == "3650.00"
    assert cod_due(None, order_cod=True, order_paid=True, order_amount="3650.00") is None
    assert cod_due(None, order_cod=False, order_paid=False, order_amount="3650.00") is None


def test_a_message_for_an_unknown_status_or_placeholder_is_pointed_at() -> None:
    text = SHIPPED.replace("in_transit = { ru", "in_trnsit = { ru").replace(
        "Collect it by {storage_until}.", "Collect it by {deadline}."
    )

    found = problems(text)

    assert any("delivery.messages.in_trnsit: 'in_trnsit' is not one of shipped" in p
               for p in found)  # fmt: skip
    assert any("delivery.messages.ready_for_pickup.en: unknown placeholder {deadline}; it can"
               " use carrier, cod, pickup_point" in p for p in found)  # fmt: skip


def test_urgent_and_alerted_statuses_must_exist() -> None:
    text = SHIPPED.replace('alert_on = ["returned", "delivery_failed"]', 'alert_on = ["lost"]')

    [problem] = problems(text)

    assert problem.endswith("delivery.alert_on[0]: 'lost' is not a delivery status")
