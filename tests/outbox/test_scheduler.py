"""The scheduler and the admins' daily digest, in virtual time, across a DST change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot

from bot.jobs import digest_job, ensure_digest
from bot.messages import renderer
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from bot.scheduler import Scheduler
from bot.sender import Pacing, Sender
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.digest import DIGEST_JOB
from funnel.events import epoch_ms
from funnel.outbox import Policy, QuietHours
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore, Job

BERLIN = ZoneInfo("Europe/Berlin")
ADMINS = (1_000_001, 1_000_002)


@pytest.fixture
def sender(
    bot: Bot, store: FunnelStore, clock: ManualClock, definition: FunnelDefinition
) -> Sender:
    render = renderer(store, definition, ReportDefaults(BERLIN, 30, 5.0))
    policy = Policy(QuietHours.parse("22:00-09:00"), 3, BERLIN)
    return Sender(bot, store, clock, policy, render, Pacing(), jitter=lambda: 0.0)


async def test_the_digest_reaches_admins_at_local_nine_across_dst(
    store: FunnelStore, clock: ManualClock, sandbox: BotApiSandbox, sender: Sender
) -> None:
    for admin in ADMINS:
        sandbox.add_user(Profile(admin, "Owner", "en"))
    clock.advance(datetime(2026, 10, 24, 6, 0, tzinfo=UTC) - clock.now())
    await ensure_digest(store, clock, BERLIN, time(9, 0))
    job = digest_job(store, clock, ADMINS, BERLIN, time(9, 0), sender.wake)
    scheduler = Scheduler(store, clock, {DIGEST_JOB: job})
    async with store.transaction() as tx:
        await tx.set_digest(ADMINS[1], False)

    assert await scheduler.run_due() == 0
    async with store.transaction() as tx:
        first_due = await tx.next_job_ms()
    clock.advance(timedelta(hours=1))  # 09:00 in Berlin, summer time
    assert await scheduler.run_due() == 1
    await sender.drain()
    async with store.transaction() as tx:
        second_due = await tx.next_job_ms()

    assert first_due == epoch_ms(datetime(2026, 10, 24, 7, 0, tzinfo=UTC))
    assert second_due == epoch_ms(datetime(2026, 10, 25, 8, 0, tzinfo=UTC))  # winter time
    [digest] = sandbox.messages_to(ADMINS[0])
    assert digest.text.startswith("Digest for Friday, 23 October 2026")
    assert sandbox.messages_to(ADMINS[1]) == []


async def test_an_overdue_job_survives_a_restart_and_runs(
    store: FunnelStore, clock: ManualClock
) -> None:
    ran: list[str] = []

    async def remember(job: Job) -> None:
        ran.append(job.key)

    async with store.transaction() as tx:
        await tx.schedule("check", "cart:1", epoch_ms(clock.now()) - 1, {"cart": 1})
    # A restart: the same job is ensured again without moving it.
    async with store.transaction() as tx:
        await tx.schedule("check", "cart:1", epoch_ms(clock.now()) + 10**9, {}, replace=False)

    assert await Scheduler(store, clock, {"check": remember}).run_due() == 1
    assert ran == ["cart:1"]
    async with store.transaction() as tx:
        assert await tx.next_job_ms() is None


async def test_the_loop_sleeps_until_the_earliest_job_and_wakes_for_an_earlier_one(
    store: FunnelStore, clock: ManualClock
) -> None:
    ran: list[tuple[str, datetime]] = []
    done = [asyncio.Event(), asyncio.Event()]

    async def remember(job: Job) -> None:
        ran.append((job.key, clock.now()))
        done[len(ran) - 1].set()

    start = clock.now()
    scheduler = Scheduler(store, clock, {"check": remember})
    async with store.transaction() as tx:
        await tx.schedule("check", "late", epoch_ms(start + timedelta(hours=5)), {})
    stop = asyncio.Event()
    loop = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(clock.until_waiting(), 5)  # asleep until the late job
    async with store.transaction() as tx:
        await tx.schedule("check", "early", epoch_ms(start + timedelta(hours=1)), {})
    scheduler.wake()
    clock.advance(timedelta(hours=1))
    await asyncio.wait_for(done[0].wait(), 5)
    assert ran == [("early", start + timedelta(hours=1))]
    await asyncio.wait_for(clock.until_waiting(), 5)  # asleep until the late job again
    clock.advance(timedelta(hours=4))
    await asyncio.wait_for(done[1].wait(), 5)
    stop.set()
    await loop

    assert ran == [("early", start + timedelta(hours=1)), ("late", start + timedelta(hours=5))]


async def test_a_failing_job_is_retried_a_minute_later_not_in_a_loop(
    store: FunnelStore, clock: ManualClock
) -> None:
    async def broken(job: Job) -> None:
        raise RuntimeError("the carrier API is down")

    async with store.transaction() as tx:
        await tx.schedule("poll", "parcel:1", epoch_ms(clock.now()), {})

    assert await Scheduler(store, clock, {"poll": broken}).run_due() == 1
    async with store.transaction() as tx:
        assert await tx.next_job_ms() == epoch_ms(clock.now()) + 60_000
