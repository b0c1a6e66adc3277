"""A customer's time zone and /help; quiet hours follow the zone the customer set."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.sandbox.server import BotApiSandbox
from bot.sender import Sender
from funnel.clock import ManualClock
from funnel.store.base import FunnelStore
from funnel.zones import zone_from_offset
from tests.conftest import SHOP_ZONE, UserFactory
from tests.e2e.test_followups import run_until


async def zone_of(store: FunnelStore, telegram_user_id: int) -> str | None:
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(telegram_user_id)
    return customer.time_zone if customer else None


async def test_a_city_button_or_an_offset_sets_the_time_zone(
    make_user: UserFactory, store: FunnelStore
) -> None:
    anna = make_user("Анна", "ru")

    [ask] = await anna.send("/timezone")
    await anna.click("Новосибирск")
    city = await zone_of(store, anna.profile.id)
    [offset] = await anna.send("/timezone +5")
    [bad] = await anna.send("/timezone soon")

    assert ask.text == "Готово: ваш часовой пояс — Asia/Novosibirsk."  # edited in place
    assert city == "Asia/Novosibirsk"
    assert offset.text == "Готово: ваш часовой пояс — Etc/GMT-5."
    assert await zone_of(store, anna.profile.id) == "Etc/GMT-5"
    assert bad.text.startswith("Не понял смещение.")


def test_offsets_become_fixed_zones() -> None:
    assert [zone_from_offset(t) for t in ("+5", "UTC-3", "gmt+0", "+15", "five")] == [
        "Etc/GMT-5", "Etc/GMT+3", "Etc/UTC", None, None,
    ]  # fmt: skip


async def test_help_explains_the_bot(make_user: UserFactory) -> None:
    john = make_user("John", "en")

    [reply] = await john.send("/help")

    assert reply.text.startswith("I'm the tea shop's bot")


async def test_a_followup_waits_for_morning_in_the_zone_the_customer_set(
    make_user: UserFactory, sandbox: BotApiSandbox, store: FunnelStore, clock: ManualClock,
    sender: Sender,
) -> None:  # fmt: skip
    # 18:00 in Moscow is already 22:00 in Novosibirsk.
    clock.advance(datetime(2026, 9, 1, 18, 0, tzinfo=SHOP_ZONE) - clock.now())
    mia = make_user("Mia", "en")
    await mia.send("/timezone")
    await mia.click("Новосибирск")
    await mia.start("tea_guide--vk")

    await run_until(sender, clock, store, timedelta(days=2))

    followup = sandbox.messages_to(mia.profile.id)[2]
    assert followup.text.startswith("Taste what you read about")
    assert followup.date.astimezone(SHOP_ZONE).strftime("%d %H:%M") == "03 05:00"  # 09:00 there


async def test_flooding_is_throttled_with_one_notice(
    make_user: UserFactory, clock: ManualClock
) -> None:
    bot_fan = make_user("Fan", "en")

    replies = [await bot_fan.send(f"hi {n}") for n in range(12)]
    clock.advance(timedelta(seconds=3))
    [later] = await bot_fan.send("still there?")

    texts = [r[0].text if r else None for r in replies]
    assert texts[:8] == ["I understand the /start command. Send it to begin again."] * 8
    assert texts[8] == "That's a lot of messages at once. I'll answer once you pause."
    assert texts[9:] == [None, None, None]
    assert later.text == "I understand the /start command. Send it to begin again."
