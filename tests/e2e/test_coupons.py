"""Coupon magnets: pool codes handed out once each, generated codes, expiry in local time."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock
from funnel.coupons import coupon_for
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore
from tests.conftest import ADMIN_ID, UserFactory


async def load(store: FunnelStore, codes: list[str]) -> None:
    async with store.transaction() as tx:
        await tx.load_coupons("welcome10", codes)


async def test_a_pool_code_goes_to_one_customer_and_comes_back_on_a_repeat(
    make_user: UserFactory, store: FunnelStore
) -> None:
    await load(store, ["TEA-AAA", "TEA-BBB"])
    anna = make_user("Анна", "ru")

    [first] = await anna.start("welcome10--vk")
    [again] = await anna.start("welcome10--vk")

    # 12:00 Moscow on 1 September plus three days.
    assert first.text == "Ваш промокод: TEA-AAA. Действует до 04.09.2026 12:00 (ваше время)."
    assert again.text == first.text
    assert "<code>TEA-AAA</code>" in first.markup


async def test_expiry_is_shown_in_the_customers_own_zone(
    make_user: UserFactory, store: FunnelStore
) -> None:
    await load(store, ["TEA-CCC"])
    john = make_user("John", "en")
    await john.send("/timezone +5")

    [coupon] = await john.start("welcome10")

    assert coupon.text == "Your code: TEA-CCC. Valid until 04.09.2026 14:00 (your time)."


async def test_an_empty_pool_apologises_and_alerts_once(
    make_user: UserFactory, store: FunnelStore, sandbox: BotApiSandbox
) -> None:
    sandbox.add_user(Profile(ADMIN_ID, "Owner", "en"))
    await load(store, ["TEA-ONLY"])
    lucky, late = make_user("Lucky", "en"), make_user("Late", "en")

    [coupon] = await lucky.start("welcome10")
    [sorry] = await late.start("welcome10")

    assert "TEA-ONLY" in coupon.text
    assert sorry.text == "Sorry, something went wrong on our side. Please try again in a minute."
    async with store.transaction() as tx:
        assert (await tx.outbox_health(0)).pending == 1  # "empty", collapsed within the hour


async def test_two_customers_never_get_the_same_pool_code(
    store: FunnelStore, clock: ManualClock, definition: FunnelDefinition
) -> None:
    codes = [f"TEA-{n:03d}" for n in range(30)]
    await load(store, codes)
    magnet = definition.magnet("welcome10")
    assert magnet is not None
    async with store.transaction() as tx:
        people = [
            (await tx.add_customer(NewCustomer(first_seen_at=clock.now()))).id for _ in range(40)
        ]
    postbox = Postbox(store, clock)

    handed = await asyncio.gather(
        *(coupon_for(store, postbox, [], who, magnet, clock.now()) for who in people)
    )

    given = [c.code for c in handed if c is not None]
    assert sorted(given) == sorted(codes)
    assert handed.count(None) == 10


async def test_generated_codes_are_unguessable_and_stable_per_customer(
    make_user: UserFactory, store: FunnelStore, clock: ManualClock
) -> None:
    mia, ira = make_user("Mia", "en"), make_user("Ira", "en")

    [first] = await mia.start("free_shipping")
    clock.advance(timedelta(hours=1))
    [again] = await mia.start("free_shipping")
    [other] = await ira.start("free_shipping")

    code = re.search(r"SHIP-[2-9A-Z]{10}", first.text)
    assert code is not None and code.group(0) in again.text
    assert code.group(0) not in other.text
