"""Progress kept as events arrive, in any order and batching, equals a rebuild from the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.database import open_database
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition
from funnel.events import Event
from funnel.progress import StagePlan
from funnel.report import CALENDAR, COHORT, Period, Query
from funnel.reporting import build_report, cohort_customers
from tests.conftest import REPO

DEFINITION = FunnelDefinition.model_validate(
    __import__("tomllib").loads((REPO / "funnel.toml").read_text())
)
PLAN = StagePlan.of(DEFINITION)
ZONE = ZoneInfo("Europe/Moscow")
BASE = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
TYPES = sorted(PLAN.relevant_types | {"message_sent"})
WHOLE = Period(date(2026, 11, 1), date(2026, 12, 31))

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 3),  # customer
        st.sampled_from(TYPES),
        st.integers(0, 40),  # hours after BASE: few values, so ties happen
        st.sampled_from([None, "vk", "ads"]),
        st.sampled_from([None, "telegram", "shopify"]),
        st.sampled_from([None, "guide", "coupon"]),
    ),
    max_size=30,
)


async def snapshot(store: Any) -> list[Any]:
    views: list[Any] = []
    for mode in (COHORT, CALENDAR):
        for by in (None, "source", "magnet", "platform", "new_vs_returning"):
            report = await build_report(store, PLAN, Query(WHOLE, mode, 1, by), ZONE)
            views.append(report.as_json())
    views.append(await cohort_customers(store, Query(WHOLE), ZONE))
    return views


async def scenario(raw: list[tuple[Any, ...]], order: list[int], cuts: list[int]) -> None:
    clock = ManualClock(BASE)
    store = await open_database("sqlite:///:memory:", clock, PLAN)
    try:
        async with store.transaction() as tx:
            ids = [(await tx.add_customer(NewCustomer(first_seen_at=BASE))).id for _ in range(4)]
        events = [
            Event(
                customer_id=ids[customer],
                type=kind,
                occurred_at=BASE + timedelta(hours=hours),
                key=f"k{index}",
                source=source,
                platform=platform,
                properties={"magnet": magnet} if magnet else {},
            )
            for index, (customer, kind, hours, source, platform, magnet) in enumerate(raw)
        ]
        arrival = [events[i] for i in order]
        start = 0
        for cut in [*cuts, len(arrival)]:
            async with store.transaction() as tx:
                await tx.record_many(arrival[start:cut])
            start = cut
            # Reports in between pack segments that later events must then mark stale.
            await snapshot(store)
        incremental = await snapshot(store)
        await store.rebuild_progress(lambda done, total: None)
        assert incremental == await snapshot(store)
    finally:
        await store.close()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), raw=events_strategy)
def test_incremental_progress_matches_a_rebuild(data: st.DataObject, raw: list[Any]) -> None:
    order = data.draw(st.permutations(range(len(raw))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=4)))
    asyncio.run(scenario(raw, list(order), cuts))
