"""Admin commands through the real bot and the sandbox: the same numbers as the command line."""

from __future__ import annotations

import csv
import io
import struct
from datetime import datetime, timedelta

import pytest
from structlog.testing import capture_logs

from bot.sandbox.driver import SandboxUser
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile, SentMessage
from funnel.clock import ManualClock
from funnel.customers import NewCustomer
from funnel.definition import FunnelDefinition
from funnel.events import Event, epoch_ms
from funnel.outbox import Intent
from funnel.store.base import FunnelStore
from tests.conftest import ADMIN_ID, SHOP_ZONE, UserFactory

# The clock stands at 2026-09-01 12:00 in Moscow; "7d" is 26 August to 1 September.
FUNNEL = [("bot_started", 0), ("magnet_delivered", 5), ("cart_updated", 60), ("order_created", 90)]


async def shop_history(store: FunnelStore, clock: ManualClock) -> None:
    """Ten customers on 30 August, through 4, 3, 2 and 1 stages; five in the week before."""
    day = datetime(2026, 8, 30, 10, 0, tzinfo=SHOP_ZONE)
    earlier = datetime(2026, 8, 22, 10, 0, tzinfo=SHOP_ZONE)
    plan = [(day, 4)] * 4 + [(day, 3)] * 2 + [(day, 2)] * 2 + [(day, 1)] * 2
    plan += [(earlier, 4)] * 4 + [(earlier, 1)]
    async with store.transaction() as tx:
        for n, (start, depth) in enumerate(plan):
            customer = await tx.add_customer(NewCustomer(first_seen_at=clock.now()))
            await tx.record_many(
                [
                    Event(
                        customer.id,
                        kind,
                        start + timedelta(minutes=minutes),
                        key=f"h{n}-{kind}",
                        source="vk" if n % 2 else "ads",
                        platform="shopify",
                    )
                    for kind, minutes in FUNNEL[:depth]
                ]
            )


@pytest.fixture
async def admin(sandbox: BotApiSandbox, polling: None) -> SandboxUser:
    return SandboxUser(sandbox, Profile(ADMIN_ID, "Owner", "en"))


def pre(message: SentMessage) -> str:
    return message.text


async def test_report_answers_admins_with_a_phone_sized_table(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)

    [reply] = await admin.send("/report")

    lines = reply.text.splitlines()
    assert lines[0] == (
        "Cohort 2026-08-26..2026-09-01: customers who started then, followed for 30 d"
    )
    assert lines[2].split() == ["started", "10", "—", "100%", "—", "—"]
    assert lines[3].split() == ["lead", "8", "80%", "80%", "2", "5m"]
    assert lines[4].split() == ["cart", "6", "75%", "60%", "2", "55m"]
    assert lines[5].split() == ["checkout", "0", "0%", "0%", "6", "—"]
    assert max(len(line) for line in lines[1:11]) <= 40
    assert "<pre>" in reply.markup


async def test_report_with_a_breakdown_and_a_month(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)

    replies = await admin.send("/report 2026-08 by source calendar")

    text = "\n".join(r.text for r in replies)
    assert text.startswith("Calendar 2026-08-01..2026-08-31")
    assert "source = ads" in text and "source = vk" in text


async def test_a_report_argument_that_does_not_parse_gets_the_usage(
    admin: SandboxUser,
) -> None:
    [reply] = await admin.send("/report last-tuesday")

    assert reply.text.startswith("'last-tuesday' is not a period")
    assert "Usage: /report [today|yesterday|7d|30d" in reply.text


async def test_someone_else_gets_the_customer_help_and_the_attempt_is_logged(
    make_user: UserFactory, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)
    stranger = make_user("Mallory", "en")

    with capture_logs() as logs:
        replies = await stranger.send("/report 30d")

    assert [r.text for r in replies] == [
        "I understand the /start command. Send it to begin again."
    ]
    assert {
        "event": "admin command refused",
        "command": "report",
        "user_id": stranger.profile.id,
        "log_level": "warning",
    } in logs


async def test_chart_sends_a_phone_sized_png(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)

    [photo] = await admin.send("/chart 30d by source")

    assert photo.kind == "photo" and photo.content is not None
    assert photo.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", photo.content[16:24]) == (1080, 1350)


async def test_export_parses_back_to_the_reported_numbers(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)
    [report] = await admin.send("/report 30d")

    customers_doc, report_doc = await admin.send("/export 30d")

    assert customers_doc.file == "customers-2026-08-03..2026-09-01.csv"
    assert customers_doc.content is not None and report_doc.content is not None
    people = list(csv.DictReader(io.StringIO(customers_doc.content.decode())))
    figures = list(csv.DictReader(io.StringIO(report_doc.content.decode())))
    stages = ["started", "lead", "cart", "checkout", "order", "paid", "delivered", "repeat"]
    reached = [sum(1 for p in people if p[stage]) for stage in stages]
    assert reached == [int(row["customers"]) for row in figures]
    assert reached[:4] == [15, 12, 10, 0]
    table = report.text.splitlines()[2:10]
    assert [int(line.split()[1]) for line in table] == reached
    assert figures[1]["conversion_from_previous"] == "0.8"
    assert people[0]["started"].endswith("+03:00")


async def test_compare_highlights_a_conversion_that_fell(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)

    [reply] = await admin.send("/compare 7d")

    lines = reply.text.splitlines()
    assert lines[0].startswith("2026-08-26..2026-09-01 against 2026-08-19..2026-08-25")
    lead = next(line for line in lines if line.startswith("lead"))
    assert lead.split() == ["lead", "80%", "80%", "+0.0"]
    cart = next(line for line in lines if line.startswith("cart"))
    assert cart.split() == ["cart", "75%", "100%", "-25.0", "!"]
    assert lines[-1].startswith("Fell more than 5 points: cart")


async def test_digest_summarizes_yesterday(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    clock.advance(datetime(2026, 8, 31, 9, 0, tzinfo=SHOP_ZONE) - clock.now())
    await shop_history(store, clock)

    [reply] = await admin.send("/digest")

    assert reply.text.startswith("Digest for Sunday, 30 August 2026")
    assert "Started: 10 (+10 on the day before)" in reply.text
    assert "Biggest drop: before checkout" in reply.text


async def test_health_shows_the_database_and_the_last_event_per_platform(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    await shop_history(store, clock)
    clock.advance(timedelta(hours=2))

    [reply] = await admin.send("/health")

    assert "uptime     2h00m" in reply.text
    assert "events     45" in reply.text
    assert "customers  15" in reply.text
    assert "shopify        2h00m ago  bot_started" in reply.text


async def test_help_lists_every_admin_command(admin: SandboxUser) -> None:
    [reply] = await admin.send("/help")

    for command in ("/report", "/compare", "/chart", "/export", "/digest", "/health"):
        assert command in reply.text


async def test_digest_can_be_turned_off_and_on(admin: SandboxUser, store: FunnelStore) -> None:
    [off] = await admin.send("/digest off")
    async with store.transaction() as tx:
        opted_out = await tx.digest_opted_out()
    [on] = await admin.send("/digest on")
    async with store.transaction() as tx:
        back = await tx.digest_opted_out()
    [wrong] = await admin.send("/digest weekly")

    assert off.text.startswith("The daily digest will no longer come to you.")
    assert opted_out == {ADMIN_ID} and back == set()
    assert on.text == "The daily digest will come to you."
    assert wrong.text.startswith("'weekly': use /digest, /digest on or /digest off")


async def test_health_shows_the_outbox(
    admin: SandboxUser, store: FunnelStore, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        someone = await tx.add_customer(NewCustomer(first_seen_at=clock.now()))
        for minutes in (-30, 60):
            await tx.enqueue(
                Intent(
                    someone.id,
                    "welcome",
                    "marketing",
                    clock.now() + timedelta(minutes=minutes),
                    {"first_name": "A"},
                ),
                epoch_ms(clock.now()),
            )

    [reply] = await admin.send("/health")

    assert "outbox:\n  pending    2\n  sending    0\n  failed 24h 0\n  oldest due 30m overdue" in (
        reply.text
    )


async def test_links_lists_every_magnet_and_source(
    admin: SandboxUser, definition: FunnelDefinition
) -> None:
    [reply] = await admin.send("/links")

    lines = reply.text.splitlines()
    assert lines[0] == "Links: magnet, source, link"
    assert len(lines) == 1 + len(definition.offered_magnets) * len(definition.sources)
    assert lines[1].split() == [
        "tea_guide", "vk", "https://t.me/funnel_sandbox_bot?start=tea_guide--vk",
    ]  # fmt: skip
