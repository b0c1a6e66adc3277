"""/start through the real aiogram Bot and Dispatcher, over HTTP, against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox.server import BotApiSandbox
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.events import StoredEvent, epoch_ms
from funnel.outbox import Intent
from funnel.store.base import FunnelStore
from tests.conftest import UserFactory


async def events_of(store: FunnelStore, telegram_user_id: int) -> list[StoredEvent]:
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(telegram_user_id)
        assert customer is not None
        return await tx.events_of(customer.id)


async def test_start_without_payload_welcomes_and_records_a_direct_start(
    make_user: UserFactory, store: FunnelStore, clock: ManualClock
) -> None:
    emily = make_user("Emily", "en-US")

    replies = await emily.start()

    assert [r.text for r in replies] == [
        "Hello, Emily! 👋\nI'll help with your order: I'll tell you where your parcel is and "
        "remind you about a cart you left."
    ]
    [stored] = await events_of(store, emily.profile.id)
    assert stored.event.type == "bot_started"
    assert stored.event.source == "direct"
    assert stored.event.platform == "telegram"
    assert stored.event.occurred_at == clock.now()
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(emily.profile.id)
    assert customer is not None
    assert (customer.first_source, customer.language) == ("direct", "en")


async def test_start_with_payload_keeps_the_source_as_first_touch(
    make_user: UserFactory, store: FunnelStore
) -> None:
    anna = make_user("Анна", "ru")

    replies = await anna.start("vk_spring-2026")

    assert replies[0].text.startswith("Здравствуйте, Анна!")
    [stored] = await events_of(store, anna.profile.id)
    assert (stored.event.type, stored.event.source) == ("bot_started", "vk_spring-2026")
    assert stored.event.properties == {"payload": "vk_spring-2026"}


async def test_a_later_start_is_a_reentry_and_the_first_touch_stays(
    make_user: UserFactory, store: FunnelStore, clock: ManualClock
) -> None:
    anna = make_user("Анна", "ru")
    await anna.start("vk_spring")
    later = datetime(2026, 9, 3, 12, 0, tzinfo=UTC)
    clock.advance(later - clock.now())

    replies = await anna.start("tg_post_42")

    assert [r.text for r in replies] == ["С возвращением, Анна! Чем помочь?"]
    events = await events_of(store, anna.profile.id)
    assert [(s.event.type, s.event.source) for s in events] == [
        ("bot_started", "vk_spring"),
        ("bot_reentered", "tg_post_42"),
    ]
    assert events[1].event.occurred_at == later
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(anna.profile.id)
    assert customer is not None and customer.first_source == "vk_spring"


async def test_malformed_payloads_are_recorded_as_an_unknown_source(
    make_user: UserFactory, store: FunnelStore
) -> None:
    too_long = make_user("Long")
    bad_chars = make_user("Bad")

    await too_long.start("a" * 65)
    await bad_chars.send("/start summer sale!")

    for user in (too_long, bad_chars):
        [stored] = await events_of(store, user.profile.id)
        assert (stored.event.type, stored.event.source) == ("bot_started", "unknown")
        assert user.inbox[0].text.startswith("Hello, ")


async def test_an_unsupported_language_gets_the_default_one(make_user: UserFactory) -> None:
    mia = make_user("Mia", "de")

    replies = await mia.start()

    assert replies[0].text.startswith("Здравствуйте, Mia!")


async def test_names_are_escaped_not_interpreted(make_user: UserFactory) -> None:
    tricky = make_user("<b>Boss</b> & co", "en")

    replies = await tricky.start()

    assert replies[0].text.startswith("Hello, <b>Boss</b> & co! 👋")


async def test_unknown_commands_and_text_get_the_help_reply(make_user: UserFactory) -> None:
    john = make_user("John", "en")
    help_text = "I understand the /start command. Send it to begin again."

    assert [r.text for r in await john.send("/prices")] == [help_text]
    assert [r.text for r in await john.send("hello?")] == [help_text]


async def test_non_text_messages_get_the_help_reply(make_user: UserFactory) -> None:
    anna = make_user("Анна", "ru")

    replies = await anna.send_sticker()

    assert [r.text for r in replies] == [
        "Я понимаю команду /start. Напишите её, чтобы начать сначала."
    ]


async def test_a_redelivered_update_is_recorded_once(
    make_user: UserFactory, sandbox: BotApiSandbox, store: FunnelStore
) -> None:
    emily = make_user("Emily")
    update = sandbox.user_message(emily.profile, text="/start ad_1")

    await sandbox.deliver(update)
    await sandbox.deliver(dict(update))

    events = await events_of(store, emily.profile.id)
    assert [s.event.type for s in events] == ["bot_started"]


async def test_a_failing_handler_gets_a_polite_reply_not_silence(
    make_user: UserFactory, store: FunnelStore, definition: FunnelDefinition
) -> None:
    emily = make_user("Emily")
    await store.close()

    replies = await emily.start()

    assert [r.text for r in replies] == [definition.templates["sorry"]["en"]]


async def test_a_button_the_bot_no_longer_knows_gets_an_answer(
    make_user: UserFactory, sandbox: BotApiSandbox, bot: Bot
) -> None:
    emily = make_user("Emily", "en")
    await emily.start()
    old_keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Old offer", callback_data="gone:1")]]
    )
    await bot.send_message(emily.profile.id, "Yesterday's offer", reply_markup=old_keyboard)

    await emily.click("Old offer")

    [params] = [params for method, params in sandbox.calls if method == "answerCallbackQuery"]
    assert params["text"] == "This button no longer works. Send /start to begin again."
    assert params["show_alert"] == "true"


async def test_stop_opts_out_of_marketing_and_start_welcomes_back(
    make_user: UserFactory, store: FunnelStore, clock: ManualClock
) -> None:
    emily = make_user("Emily", "en")
    await emily.start()
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(emily.profile.id)
        assert customer is not None
        offer = await tx.enqueue(
            Intent(customer.id, "welcome", "marketing", clock.now() + timedelta(hours=2),
                   {"first_name": "Emily"}),
            epoch_ms(clock.now()),
        )  # fmt: skip

    [question] = await emily.send("/stop")
    asked = question.text
    await emily.click("No, keep them")
    async with store.transaction() as tx:
        kept = await tx.customer_by_telegram(emily.profile.id)
    await emily.send("/stop")
    await emily.click("Yes, no more offers")
    reply = emily.inbox[-1]
    async with store.transaction() as tx:
        stopped = await tx.customer_by_telegram(emily.profile.id)
        row = await tx.outbox_row(offer)
    await emily.start()
    async with store.transaction() as tx:
        back = await tx.customer_by_telegram(emily.profile.id)
        types = [s.event.type for s in await tx.events_of(customer.id)]

    assert asked == "No more offers? Order and delivery news will come either way."
    assert kept is not None and not kept.opted_out
    assert question.text == "Good, nothing changes."  # the question, edited in place
    assert reply.text.startswith("Done, Emily: no more offers.")
    assert stopped is not None and stopped.opted_out
    assert (row["status"], row["reason"]) == ("cancelled", "the customer opted out of marketing")
    assert back is not None and not back.opted_out
    assert types == ["bot_started", "unsubscribed", "bot_reentered"]
