"""A customer following a magnet link, through the real bot and the sandbox."""

from __future__ import annotations

from funnel.definition import FunnelDefinition
from funnel.store.base import FunnelStore
from tests.conftest import UserFactory
from tests.e2e.test_start import events_of


async def test_a_magnet_link_delivers_the_magnet_and_records_each_step(
    make_user: UserFactory, store: FunnelStore
) -> None:
    anna = make_user("Анна", "ru")

    [guide] = await anna.start("tea_guide--vk")

    assert guide.kind == "document" and guide.file == "tea-guide.txt"
    assert guide.content is not None and guide.content.startswith(b"Tea guide")
    assert guide.text == "Ваш гид по чаю: как заваривать пуэр, улун и зелёный чай."
    events = await events_of(store, anna.profile.id)
    assert [(s.event.type, s.event.source) for s in events] == [
        ("bot_started", "vk"),
        ("magnet_requested", "vk"),
        ("magnet_delivered", "vk"),
    ]
    assert events[2].event.properties == {"magnet": "tea_guide"}


async def test_a_repeated_request_resends_without_counting_twice(
    make_user: UserFactory, store: FunnelStore
) -> None:
    john = make_user("John", "en")

    await john.start("brew_tips--tg_post")
    [again] = await john.start("brew_tips--qr_store")

    assert again.text.startswith("1. Soft water.")
    kinds = [s.event.type for s in await events_of(store, john.profile.id)]
    assert kinds == [
        "bot_started", "magnet_requested", "magnet_delivered",
        "bot_reentered", "magnet_requested",
    ]  # fmt: skip


async def test_an_unknown_magnet_gets_the_welcome_and_the_list(
    make_user: UserFactory, store: FunnelStore, definition: FunnelDefinition
) -> None:
    mia = make_user("Mia", "en")

    [reply] = await mia.start("old_offer--vk")

    assert reply.text.startswith(
        "Hello, Mia! That gift isn't here, but these are:\n• Tea guide\n• Five brewing tips\n"
    )
    assert reply.text.count("\n• ") == len(definition.offered_magnets)
    events = await events_of(store, mia.profile.id)
    assert events[1].event.properties == {"magnet": "unknown", "asked": "old_offer"}


async def test_a_magnet_only_reminders_hand_out_cannot_be_asked_for_by_link(
    make_user: UserFactory, store: FunnelStore
) -> None:
    mia = make_user("Mia", "en")

    [reply] = await mia.start("cart_rescue--vk")

    assert reply.text.startswith("Hello, Mia! That gift isn't here")
    assert "CART-" not in reply.text and "5% off" not in reply.text
    events = await events_of(store, mia.profile.id)
    assert events[1].event.properties == {"magnet": "unknown", "asked": "cart_rescue"}


async def test_a_magnet_button_delivers_it_without_a_new_start(
    make_user: UserFactory, store: FunnelStore
) -> None:
    mia = make_user("Mia", "en")
    [listing] = await mia.start("old_offer--vk")

    [tips] = await mia.click("Five brewing tips")

    assert [b["text"] for b in listing.buttons()][:2] == ["Tea guide", "Five brewing tips"]
    assert tips.text.startswith("1. Soft water.")
    events = await events_of(store, mia.profile.id)
    assert [(s.event.type, s.event.source) for s in events][-2:] == [
        ("magnet_requested", "direct"),
        ("magnet_delivered", "direct"),
    ]
