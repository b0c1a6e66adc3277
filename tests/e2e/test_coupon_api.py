"""The coupon API: the shop's key, lookups, redemption as a funnel event, rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_web_app
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.events import epoch_ms
from funnel.store.base import FunnelStore

KEY = "shop-api-key-for-tests"
AUTH = {"Authorization": f"Bearer {KEY}"}
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    store: FunnelStore,
    clock: ManualClock,
) -> Client:
    async with store.transaction() as tx:
        customer = await tx.add_customer(NewCustomer(first_seen_at=clock.now()))
        await tx.load_coupons("welcome10", ["TEA-FREE"])
        expires = epoch_ms(clock.now() + timedelta(days=3))
        await tx.add_issued_coupon("SHIP-ISSUED", "generated", customer.id, "free_shipping",
                                   epoch_ms(clock.now()), expires)  # fmt: skip
    return await aiohttp_client(create_web_app(store=store, clock=clock, api_key=KEY))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_the_api_needs_the_shops_key(client: Client, headers: dict[str, str]) -> None:
    response = await client.get("/api/coupons/SHIP-ISSUED", headers=headers)

    assert response.status == 401
    assert await response.json() == {"error": "a valid API key is required"}


async def test_a_lookup_says_whether_a_code_is_valid(client: Client) -> None:
    issued = await (await client.get("/api/coupons/SHIP-ISSUED", headers=AUTH)).json()
    free = await (await client.get("/api/coupons/TEA-FREE", headers=AUTH)).json()
    unknown = await client.get("/api/coupons/NOPE", headers=AUTH)

    assert issued == {
        "code": "SHIP-ISSUED", "valid": True, "status": "issued",
        "expires_at": "2026-09-04T09:00:00+00:00", "magnet": "free_shipping",
    }  # fmt: skip
    assert (free["valid"], free["status"]) == (False, "unused")
    assert unknown.status == 404


async def test_redeeming_records_the_event_once(
    client: Client, store: FunnelStore, clock: ManualClock
) -> None:
    first = await client.post("/api/coupons/SHIP-ISSUED/redeem", json={"order": 4127},
                              headers=AUTH)  # fmt: skip
    again = await client.post("/api/coupons/SHIP-ISSUED/redeem", headers=AUTH)
    bad = await client.post("/api/coupons/SHIP-ISSUED/redeem", data=b"{", headers=AUTH)

    assert first.status == 200 and (await first.json())["redeemed"] is True
    assert again.status == 409 and (await again.json())["status"] == "already redeemed"
    assert bad.status == 400
    async with store.transaction() as tx:
        [stored] = [e for e in await tx.recent_events(10) if e.event.type == "coupon_redeemed"]
    assert stored.event.properties == {
        "code": "SHIP-ISSUED", "magnet": "free_shipping", "order": "4127",
    }  # fmt: skip


async def test_an_expired_code_is_not_valid_and_cannot_be_redeemed(
    client: Client, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=4))

    looked = await (await client.get("/api/coupons/SHIP-ISSUED", headers=AUTH)).json()
    used = await client.post("/api/coupons/SHIP-ISSUED/redeem", headers=AUTH)

    assert (looked["valid"], looked["status"]) == (False, "expired")
    assert used.status == 409 and (await used.json())["status"] == "expired"


async def test_too_many_requests_are_refused_with_retry_after(
    client: Client, clock: ManualClock
) -> None:
    for _ in range(60):
        assert (await client.get("/api/coupons/TEA-FREE", headers=AUTH)).status == 200

    refused = await client.get("/api/coupons/TEA-FREE", headers=AUTH)
    clock.advance(timedelta(seconds=60))
    later = await client.get("/api/coupons/TEA-FREE", headers=AUTH)

    assert refused.status == 429 and refused.headers["Retry-After"] == "60"
    assert later.status == 200
