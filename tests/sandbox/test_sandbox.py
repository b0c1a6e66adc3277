"""The sandbox answers the real aiogram Bot as Telegram would, errors and limits included."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import create_bot
from bot.sandbox.faults import Fault, RateLimits, flood, server_error
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile
from funnel.clock import ManualClock

ANNA = Profile(id=501, first_name="Анна", language_code="ru")


@pytest.fixture
def anna(sandbox: BotApiSandbox) -> Profile:
    return sandbox.add_user(ANNA)


async def test_messages_are_stored_as_the_client_shows_them(
    bot: Bot, sandbox: BotApiSandbox, anna: Profile
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Get the guide", callback_data="m:1")]]
    )

    sent = await bot.send_message(anna.id, "<b>Hi</b> &amp; welcome", reply_markup=markup)

    [stored] = sandbox.messages_to(anna.id)
    assert stored.text == sent.text == "Hi & welcome"
    assert stored.markup == "<b>Hi</b> &amp; welcome"
    assert stored.buttons() == [{"text": "Get the guide", "callback_data": "m:1"}]


async def test_a_scripted_429_reaches_the_bot_with_its_retry_after(
    bot: Bot, sandbox: BotApiSandbox, anna: Profile
) -> None:
    sandbox.faults.add(Fault(flood(7), method="sendMessage", chat_id=anna.id))

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(anna.id, "one")
    await bot.send_message(anna.id, "two")

    assert raised.value.retry_after == 7
    assert [m.text for m in sandbox.messages_to(anna.id)] == ["two"]


async def test_a_user_who_blocked_the_bot_is_a_403(
    bot: Bot, sandbox: BotApiSandbox, anna: Profile
) -> None:
    sandbox.blocked_by.add(anna.id)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(anna.id, "hello")


async def test_a_chat_that_never_wrote_is_not_found(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "hello")


async def test_server_errors_can_be_scripted(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.faults.add(Fault(server_error(), times=2))

    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    assert (await bot.get_me()).username == sandbox.bot_username


async def test_rate_limits_follow_the_sandbox_clock(clock: ManualClock, anna: Profile) -> None:
    async with BotApiSandbox(clock=clock, rate_limits=RateLimits()) as limited:
        limited.add_user(anna)
        bot = create_bot(limited.token, limited.url)
        try:
            await bot.send_message(anna.id, "first")
            with pytest.raises(TelegramRetryAfter) as raised:
                await bot.send_message(anna.id, "too soon")
            clock.advance(timedelta(seconds=1))
            await bot.send_message(anna.id, "a second later")
        finally:
            await bot.session.close()

    assert raised.value.retry_after == 1
    assert [m.text for m in limited.messages_to(anna.id)] == ["first", "a second later"]


async def test_bad_html_and_overlong_text_are_refused_like_telegram(
    bot: Bot, anna: Profile
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "<div>not a Telegram tag</div>")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(anna.id, "x" * 4097)


async def test_get_updates_conflicts_with_a_webhook(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/telegram/webhook", secret_token="s")

    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_a_wrong_token_is_unauthorized(sandbox: BotApiSandbox) -> None:
    intruder = create_bot("1000000001:wrong-token-wrong-token-wrong-token", sandbox.url)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()


async def test_documents_edits_and_membership(
    bot: Bot, sandbox: BotApiSandbox, anna: Profile
) -> None:
    guide = BufferedInputFile(b"%PDF-1.4 guide", filename="tea-guide.pdf")
    document = await bot.send_document(anna.id, guide, caption="Your guide")
    message = await bot.send_message(anna.id, "Checking...")
    await bot.edit_message_text("Subscribed!", chat_id=anna.id, message_id=message.message_id)
    sandbox.members[("@tea_channel", anna.id)] = "member"

    member = await bot.get_chat_member("@tea_channel", anna.id)
    stranger = await bot.get_chat_member("@other_channel", anna.id)

    assert document.document is not None
    assert document.document.file_name == "tea-guide.pdf"
    assert [m.text for m in sandbox.messages_to(anna.id)] == ["Your guide", "Subscribed!"]
    assert (member.status, stranger.status) == ("member", "left")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Subscribed!", chat_id=anna.id, message_id=message.message_id)


async def test_the_control_api_lets_another_process_play_a_user(
    sandbox: BotApiSandbox, polling: None
) -> None:
    async with aiohttp.ClientSession(sandbox.url) as http:
        response = await http.post(
            "/sandbox/messages",
            json={
                "user": {"id": 77, "first_name": "Ira", "language_code": "en"},
                "text": "/start",
            },
        )
        body = await response.json()
        read = await (await http.get("/sandbox/chats/77/messages")).json()
        bad = await http.post("/sandbox/messages", json={"text": "no user"})

    assert response.status == 200
    assert body["chat"][0]["text"].startswith("Hello, Ira!")
    assert read == body["chat"]
    assert bad.status == 400 and "bad request" in (await bad.json())["error"]
