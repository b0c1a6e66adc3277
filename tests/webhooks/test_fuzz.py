"""Mutated real payloads, correctly signed: never a 5xx, and the worker never stops on one."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_web_app
from bot.database import open_database
from bot.inbox_worker import InboxWorker
from funnel.clock import ManualClock
from funnel.inbox import PENDING
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks
from tests.webhooks.conftest import SECRETS, Sample, all_samples

SAMPLES = all_samples()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Sample:
    """A real sample with one field replaced or removed, or its bytes cut or flipped."""
    item = draw(st.sampled_from(SAMPLES))
    kind = draw(st.sampled_from(["replace", "remove", "truncate", "flip"]))
    body = item.body
    if kind in ("replace", "remove") and body.startswith(b"{"):
        document = json.loads(body)
        path = draw(st.sampled_from(_paths(document)))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if kind == "remove":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
        body = json.dumps(document).encode()
    elif kind == "truncate":
        body = body[: draw(st.integers(0, max(len(body) - 1, 0)))]
    else:
        position = draw(st.integers(0, max(len(body) - 1, 0)))
        body = body[:position] + bytes([draw(st.integers(0, 255))]) + body[position + 1 :]
    headers = {**item.headers, "X-Shopify-Webhook-Id": draw(st.uuids()).hex}
    return Sample(item.platform, item.name, headers, body).signed()


async def scenario(items: list[Sample]) -> None:
    clock = ManualClock(datetime(2026, 9, 20, tzinfo=UTC))
    store = await open_database("sqlite:///:memory:", clock, None)
    client = TestClient(TestServer(create_web_app(store=store, clock=clock,
                                                  webhooks=Webhooks(SECRETS))))  # fmt: skip
    await client.start_server()
    try:
        for item in items:
            response = await client.post(item.path, data=item.body, headers=item.headers)
            assert response.status < 500, await response.text()
            if response.status >= 400:
                assert "error" in await response.json()
        await InboxWorker(store, clock, parsers(), region="RU").drain()
        async with store.transaction() as tx:
            left = await tx.recent_deliveries(1000, PENDING)
        assert left == [], "every accepted delivery was processed or kept as failed"
    finally:
        await client.close()
        await store.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
@given(items=st.lists(mutated(), min_size=1, max_size=12))
def test_mutated_payloads_never_cause_a_5xx_or_stop_the_worker(items: list[Sample]) -> None:
    asyncio.run(scenario(items))
