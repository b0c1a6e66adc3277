"""The sender against the sandbox: pacing, Telegram's errors, the policy, keys and alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from bot.app import create_bot
from bot.messages import renderer
from bot.sandbox.faults import Fault, RateLimits, flood, server_error
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.sender import Pacing, Sender
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition
from funnel.events import epoch_ms
from funnel.outbox import MARKETING, TRANSACTIONAL, Intent, Kind, Policy, QuietHours
from funnel.postbox import Postbox
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from tests.conftest import SHOP_ZONE

POLICY = Policy(QuietHours.parse("22:00-09:00"), 3, SHOP_ZONE)


@pytest.fixture
def postbox(store: FunnelStore, clock: ManualClock) -> Postbox:
    return Postbox(store, clock)


async def customer(store: FunnelStore, sandbox: BotApiSandbox, telegram_id: int) -> int:
    sandbox.add_user(Profile(telegram_id, f"C{telegram_id}", "en"))
    async with store.transaction() as tx:
        made = await tx.add_customer(
            NewCustomer(first_seen_at=datetime(2026, 9, 1), telegram_user_id=telegram_id)
        )
    return made.id


def intent(who: int, clock: ManualClock, kind: Kind = MARKETING, **extra: object) -> Intent:
    fields: dict[str, object] = {
        "customer_id": who,
        "template": "welcome",
        "kind": kind,
        "not_before": clock.now(),
        "variables": {"first_name": "Ann"},
    }
    return Intent(**{**fields, **extra})  # type: ignore[arg-type]


async def drain_all(sender: Sender, clock: ManualClock, store: FunnelStore) -> None:
    """Run the sender in virtual time until nothing is pending."""
    for _ in range(1000):
        await sender.drain()
        async with store.transaction() as tx:
            due = await tx.next_due_ms()
        if due is None:
            return
        clock.advance(timedelta(milliseconds=max(due - epoch_ms(clock.now()), 0)))
    raise AssertionError("the outbox never emptied")


async def status(store: FunnelStore, row: int) -> dict[str, object]:
    async with store.transaction() as tx:
        return await tx.outbox_row(row)


async def test_a_429_mid_burst_pauses_everything_and_drops_nothing(
    sender: Sender, postbox: Postbox, store: FunnelStore, sandbox: BotApiSandbox,
    clock: ManualClock,
) -> None:  # fmt: skip
    people = [await customer(store, sandbox, 100 + n) for n in range(20)]
    rows = [await postbox.send(intent(p, clock, TRANSACTIONAL)) for p in people]
    sandbox.faults.add(Fault(flood(7), method="sendMessage", chat_id=110))
    began = clock.now()

    await drain_all(sender, clock, store)

    assert [len(sandbox.messages_to(100 + n)) for n in range(20)] == [1] * 20
    assert [(await status(store, r))["status"] for r in rows] == ["sent"] * 20
    tenth, eleventh = sandbox.messages_to(109)[0], sandbox.messages_to(110)[0]
    assert eleventh.date - tenth.date >= timedelta(seconds=7)
    assert clock.now() - began >= timedelta(seconds=7)


async def test_pacing_keeps_within_telegrams_limits(
    store: FunnelStore, clock: ManualClock, postbox: Postbox, definition: FunnelDefinition
) -> None:
    async with BotApiSandbox(clock=clock, rate_limits=RateLimits()) as limited:
        limited_bot = create_bot(limited.token, limited.url)
        render = renderer(store, definition, ReportDefaults(SHOP_ZONE, 30, 5.0))
        paced = Sender(limited_bot, store, clock, POLICY, render, Pacing(), jitter=lambda: 0.0)
        people = [await customer(store, limited, 500 + n) for n in range(45)]
        for person in people:
            await postbox.send(intent(person, clock, TRANSACTIONAL))
        for _ in range(3):  # a burst to one chat is queued, never dropped
            await postbox.send(intent(people[0], clock, TRANSACTIONAL))

        await drain_all(paced, clock, store)

        await limited_bot.session.close()
        calls = [c for c in limited.calls if c[0] == "sendMessage"]
        assert len(calls) == 48  # no 429 was ever answered, so nothing was retried
        assert len(limited.messages_to(500)) == 4
        times = [m.date for m in limited.messages_to(500)]
        assert all(b - a >= timedelta(seconds=1) for a, b in pairwise(times))


async def test_a_block_marks_the_customer_and_cancels_what_waits(
    sender: Sender, postbox: Postbox, store: FunnelStore, sandbox: BotApiSandbox,
    clock: ManualClock,
) -> None:  # fmt: skip
    who = await customer(store, sandbox, 201)
    sandbox.blocked_by.add(201)
    first = await postbox.send(intent(who, clock, TRANSACTIONAL))
    later = await postbox.send(intent(who, clock, not_before=clock.now() + timedelta(hours=1)))

    await sender.drain()
    after = await postbox.send(intent(who, clock, TRANSACTIONAL))
    await drain_all(sender, clock, store)

    assert (await status(store, first))["reason"] == (
        "blocked: Forbidden: bot was blocked by the user"
    )
    assert (await status(store, later))["status"] == "cancelled"
    refused = await status(store, after)
    assert (refused["status"], refused["attempts"]) == ("cancelled", 0)
    assert refused["reason"] == "the customer blocked the bot"
    assert len([c for c in sandbox.calls if c[0] == "sendMessage"]) == 1
    async with store.transaction() as tx:
        events = [s.event.type for s in await tx.events_of(who)]
    assert events == ["bot_blocked"]


async def test_server_errors_back_off_then_succeed_or_fail_with_the_reason(
    sender: Sender, postbox: Postbox, store: FunnelStore, sandbox: BotApiSandbox,
    clock: ManualClock,
) -> None:  # fmt: skip
    lucky = await customer(store, sandbox, 301)
    unlucky = await customer(store, sandbox, 302)
    sandbox.faults.add(Fault(server_error(), chat_id=301, times=2))
    sandbox.faults.add(Fault(server_error(), chat_id=302, times=99))
    recovered = await postbox.send(intent(lucky, clock, TRANSACTIONAL))
    lost = await postbox.send(intent(unlucky, clock, TRANSACTIONAL))

    await drain_all(sender, clock, store)

    done = await status(store, recovered)
    assert (done["status"], done["attempts"], done["reason"]) == ("sent", 3, None)
    gave_up = await status(store, lost)
    assert (gave_up["status"], gave_up["attempts"]) == ("failed", 5)
    assert gave_up["reason"] == "gave up after 5 attempts: Internal Server Error"


async def test_chat_not_found_fails_without_retry(
    sender: Sender, postbox: Postbox, store: FunnelStore, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        ghost = await tx.add_customer(NewCustomer(first_seen_at=clock.now(), telegram_user_id=9))
    row = await postbox.send(intent(ghost.id, clock, TRANSACTIONAL))

    await drain_all(sender, clock, store)

    result = await status(store, row)
    assert (result["status"], result["attempts"]) == ("failed", 1)
    assert result["reason"] == "Bad Request: chat not found"


async def test_quiet_hours_cap_expiry_and_cancel_by_key(
    sender: Sender, postbox: Postbox, store: FunnelStore, sandbox: BotApiSandbox,
    clock: ManualClock,
) -> None:  # fmt: skip
    clock.advance(datetime(2026, 9, 1, 23, 0, tzinfo=SHOP_ZONE) - clock.now())
    who = await customer(store, sandbox, 401)
    offers = [await postbox.send(intent(who, clock, dedupe_key=f"offer-{n}")) for n in range(4)]
    again = await postbox.send(intent(who, clock, dedupe_key="offer-0"))
    short = await postbox.send(
        intent(who, clock, expires_at=datetime(2026, 9, 2, 8, 0, tzinfo=SHOP_ZONE))
    )
    dropped = await postbox.send(intent(who, clock, cancel_key="cart:7"))
    assert await postbox.cancel("cart:7", "the order arrived") == 1

    await drain_all(sender, clock, store)

    assert again == offers[0]
    sent = sandbox.messages_to(401)
    assert [m.date.astimezone(SHOP_ZONE).strftime("%d %H:%M") for m in sent] == [
        "02 09:00", "02 09:00", "02 09:00", "03 09:00",
    ]  # fmt: skip
    assert (await status(store, short))["status"] == "expired"
    cancelled = await status(store, dropped)
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "the order arrived")
    async with store.transaction() as tx:
        events = await tx.events_of(who)
    assert [e.event.properties["template"] for e in events] == ["welcome"] * 4


async def test_repeated_alerts_collapse_within_the_hour(
    sender: Sender, postbox: Postbox, store: FunnelStore, sandbox: BotApiSandbox,
    clock: ManualClock,
) -> None:  # fmt: skip
    sandbox.add_user(Profile(1_000_001, "Owner", "en"))

    assert await postbox.alert([1_000_001], "webhook:shopify", "Shopify signature <bad>")
    clock.advance(timedelta(minutes=59))
    assert not await postbox.alert([1_000_001], "webhook:shopify", "Shopify signature <bad>")
    clock.advance(timedelta(minutes=2))
    assert await postbox.alert([1_000_001], "webhook:shopify", "Shopify signature <bad>")
    await drain_all(sender, clock, store)

    assert [m.text for m in sandbox.messages_to(1_000_001)] == ["⚠️ Shopify signature <bad>"] * 2
