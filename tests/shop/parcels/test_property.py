"""A parcel's reports in any order, some twice: the customer hears each status at most once,
never one below a status already told, and last of all where the parcel really is."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbox_worker import InboxWorker
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock
from funnel.commerce import SHIPMENT_RANK
from funnel.customers import NewCustomer
from funnel.events import epoch_ms
from funnel.linking import new_token
from funnel.store.base import FunnelStore
from tests.shop.conftest import Client, Runner
from tests.webhooks.conftest import Sample, post, sample

CDEK = [
    "01-received-at-shipment-warehouse", "02-sent-to-recipient-city",
    "03-accepted-in-recipient-city", "05-accepted-at-pick-up-point", "06-delivered",
]  # fmt: skip
STATUS_OF = dict(zip(CDEK, ["shipped", "in_transit", "in_transit", "ready_for_pickup",
                            "delivered"], strict=True))  # fmt: skip
OPENINGS = {"📦": "shipped", "🚚": "in_transit", "📍": "ready_for_pickup", "✅": "delivered",
            "⏰": "pickup reminder"}  # fmt: skip
people = count(9_100_001)


def renamed(item: Sample, n: int, token: str) -> Sample:
    """The sample as another customer's order and parcel, so each example stands alone."""
    body = json.loads(item.body)
    if item.platform == "woocommerce":
        body.update(id=90_000 + n, number=str(90_000 + n))
        body["meta_data"] = [{"key": "tg_link", "value": token}]
        headers = {**item.headers, "X-WC-Webhook-Delivery-ID": f"prop-{n}"}
        return replace(item, body=json.dumps(body).encode(), headers=headers).signed()
    body["uuid"] = f"prop-{n}"
    body["attributes"].update(number=str(90_000 + n), cdek_number=f"99{n}")
    return replace(item, body=json.dumps(body).encode())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(arrivals=st.lists(st.sampled_from(CDEK), min_size=1, max_size=8))
async def test_a_parcel_is_told_in_order_once_whatever_the_arrivals(
    client: Client, worker: InboxWorker, runner: Runner, sandbox: BotApiSandbox,
    store: FunnelStore, clock: ManualClock, arrivals: list[str],
) -> None:  # fmt: skip
    n = next(people)
    sandbox.add_user(Profile(n, "Shopper", "ru"))
    token = new_token()
    async with store.transaction() as tx:
        customer = await tx.add_customer(NewCustomer(clock.now(), n, "ru"))
        await tx.issue_link_token(token, customer.id, epoch_ms(clock.now()))
    ordered = await post(client, renamed(sample("woocommerce", "02-order-created"), n, token))
    assert ordered.status == 200
    for name in arrivals:
        response = await post(client, renamed(sample("cdek", name), n, token))
        assert response.status == 200
        await worker.drain()
        await runner.settle()
    await runner.run(timedelta(days=1))

    said = [OPENINGS[m.text[0]] for m in sandbox.messages_to(n)]
    if "delivered" in said:  # pickup reminders stop once the parcel is collected
        assert "pickup reminder" not in said[said.index("delivered") :]
    told = [status for status in said if status != "pickup reminder"]
    ranks = [SHIPMENT_RANK[status] for status in told]
    assert len(set(told)) == len(told)
    assert ranks == sorted(ranks)
    highest = max((STATUS_OF[name] for name in arrivals), key=SHIPMENT_RANK.__getitem__)
    assert told and told[-1] == highest
