"""Monotonic entities: whatever order reports arrive in, the state is the highest-ranked, and
among equals the newest, report's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from funnel.commerce import ORDER_RANK, SHIPMENT_RANK, OrderFacts, ShipmentFacts
from funnel.ingest import merge_order, merge_shipment

START = datetime(2026, 9, 1, tzinfo=UTC)
moments = st.integers(0, 10_000).map(lambda minutes: START + timedelta(minutes=minutes))

shipment_reports = st.lists(
    st.builds(
        lambda status, at, url: ShipmentFacts(
            ref="1Z", status=status, status_at=at, tracking_url=url
        ),
        st.sampled_from(sorted(SHIPMENT_RANK)),
        moments,
        st.none() | st.sampled_from(["https://a.example", "https://b.example"]),
    ),
    min_size=1,
    max_size=8,
)


@given(reports=shipment_reports, data=st.data())
def test_a_shipment_ends_in_the_same_state_in_any_order(
    reports: list[ShipmentFacts], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(reports))

    merged = reduce(merge_shipment, shuffled[1:], shuffled[0])

    best = max(SHIPMENT_RANK[r.status] for r in reports)
    newest = max(r.status_at for r in reports if SHIPMENT_RANK[r.status] == best)
    assert SHIPMENT_RANK[merged.status] == best
    assert merged.status_at == newest
    assert merged.status in {
        r.status for r in reports if (SHIPMENT_RANK[r.status], r.status_at) == (best, newest)
    }


order_reports = st.lists(
    st.builds(
        lambda status, at, paid: OrderFacts(
            platform="shopify", platform_id="1", status=status, created_at=START, updated_at=at,
            paid_at=at if paid else None,
        ),
        st.sampled_from(sorted(ORDER_RANK)),
        moments,
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)  # fmt: skip


@given(reports=order_reports, data=st.data())
def test_an_order_never_goes_back_and_keeps_its_first_payment(
    reports: list[OrderFacts], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(reports))

    merged = reduce(merge_order, shuffled[1:], shuffled[0])

    assert ORDER_RANK[merged.status] == max(ORDER_RANK[r.status] for r in reports)
    payments = [r.paid_at for r in reports if r.paid_at is not None]
    assert merged.paid_at == (min(payments) if payments else None)
    assert merged.updated_at == max(r.updated_at for r in reports)
