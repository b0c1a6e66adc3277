"""Magnets behind a gate: the customer's own phone number, or a valid e-mail address."""

from __future__ import annotations

from bot.sandbox.server import BotApiSandbox
from funnel.store.base import FunnelStore
from tests.conftest import UserFactory
from tests.e2e.test_start import events_of


async def keys(store: FunnelStore, telegram_user_id: int) -> list[str]:
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(telegram_user_id)
        assert customer is not None
        return await tx.keys_of(customer.id)


async def test_the_contact_gate_takes_only_the_customers_own_number(
    make_user: UserFactory, store: FunnelStore
) -> None:
    anna = make_user("Анна", "ru")

    [ask] = await anna.start("tea_calendar--vk")
    [refused] = await anna.share_contact("+79161234567", of_user=555)
    [calendar] = await anna.share_contact("7 (915) 482-17-36")

    button = ask.buttons()[0]
    assert ask.text.startswith("«Чайный календарь» пришлю в обмен на номер телефона")
    assert (button["text"], button.get("request_contact")) == ("📱 Поделиться номером", True)
    assert refused.text.startswith("Нужен ваш собственный номер")
    assert calendar.text.startswith("Календарь сборов")
    assert calendar.reply_markup == {"remove_keyboard": True}
    assert await keys(store, anna.profile.id) == ["phone:+79154821736"]
    kinds = [s.event.type for s in await events_of(store, anna.profile.id)]
    assert kinds == [
        "bot_started", "magnet_requested", "contact_shared", "gate_passed", "magnet_delivered",
    ]  # fmt: skip


async def test_the_email_gate_asks_again_then_delivers(
    make_user: UserFactory, store: FunnelStore
) -> None:
    john = make_user("John", "en")

    [ask] = await john.start("checklist--tg_post")
    [again] = await john.send("john at example")
    [checklist] = await john.send("John.Carter@Example.COM")
    [after] = await john.send("thanks!")

    assert (
        ask.text
        == "I'll send “Tea party checklist” for your e-mail: type the address in one message."
    )
    assert again.text == "That doesn't look like an e-mail address. Try again (2 left)."
    assert checklist.text.startswith("Checklist: water")
    assert after.text == "I understand the /start command. Send it to begin again."
    assert await keys(store, john.profile.id) == ["email:john.carter@example.com"]
    events = await events_of(store, john.profile.id)
    assert [s.event.type for s in events][-3:] == [
        "email_given",
        "gate_passed",
        "magnet_delivered",
    ]
    assert events[-1].event.source == "tg_post"


async def test_the_email_gate_gives_up_after_three_wrong_answers(
    make_user: UserFactory, store: FunnelStore
) -> None:
    mia = make_user("Mia", "en")
    await mia.start("checklist")

    replies = [(await mia.send(f"not-an-address-{n}"))[0].text for n in range(3)]
    [later] = await mia.send("mia@example.com")

    assert replies == [
        "That doesn't look like an e-mail address. Try again (2 left).",
        "That doesn't look like an e-mail address. Try again (1 left).",
        "That didn't work out. Open the link again whenever you like.",
    ]
    assert later.text == "I understand the /start command. Send it to begin again."
    assert await keys(store, mia.profile.id) == []


async def test_an_own_contact_nobody_asked_for_is_kept_to_find_orders(
    make_user: UserFactory, store: FunnelStore
) -> None:
    ira = make_user("Ira", "en")

    [reply] = await ira.share_contact("+79161234567")

    assert reply.text.startswith("Thank you! Orders placed with this number are now linked")
    assert await keys(store, ira.profile.id) == ["phone:+79161234567"]


async def test_someone_elses_contact_nobody_asked_for_gets_the_help(
    make_user: UserFactory, store: FunnelStore
) -> None:
    ira = make_user("Ira", "en")

    [reply] = await ira.share_contact("+79161234567", of_user=555)

    assert reply.text == "I understand the /start command. Send it to begin again."
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(ira.profile.id)
        assert customer is None or await tx.keys_of(customer.id) == []


async def test_the_channel_gate_checks_the_subscription_when_asked(
    make_user: UserFactory, store: FunnelStore, sandbox: BotApiSandbox
) -> None:
    john = make_user("John", "en")

    [ask] = await john.start("recipes--vk")
    await john.click("I subscribed")
    sandbox.members[("@samovar_tea", john.profile.id)] = "member"
    [recipes] = await john.click("I subscribed")

    assert ask.text.startswith("“Tea cocktail recipes” is for our channel's subscribers.")
    assert ask.buttons()[0] == {"text": "Open the channel", "url": "https://t.me/samovar_tea"}
    answers = [params for method, params in sandbox.calls if method == "answerCallbackQuery"]
    assert answers[0]["text"] == "I don't see the subscription yet. Subscribe and tap again."
    assert recipes.text.startswith("Recipes: matcha tonic")
    kinds = [s.event.type for s in await events_of(store, john.profile.id)]
    assert kinds == ["bot_started", "magnet_requested", "gate_passed", "magnet_delivered"]


async def test_a_subscriber_gets_the_channel_magnet_at_once(
    make_user: UserFactory, store: FunnelStore, sandbox: BotApiSandbox
) -> None:
    mia = make_user("Mia", "en")
    sandbox.members[("@samovar_tea", mia.profile.id)] = "creator"

    [recipes] = await mia.start("recipes")

    assert recipes.text.startswith("Recipes: matcha tonic")
    kinds = [s.event.type for s in await events_of(store, mia.profile.id)]
    assert kinds == ["bot_started", "magnet_requested", "gate_passed", "magnet_delivered"]
