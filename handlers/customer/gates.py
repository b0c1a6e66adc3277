"""Gates in front of a magnet: the customer's own phone number, or an e-mail address."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.events import epoch_ms
from funnel.identity import email_key, normalize_email, normalize_phone, phone_key
from funnel.lead import gate_passed, magnet_delivered, schedule_followups
from funnel.linking import phone_verified
from funnel.magnets import Magnet
from funnel.postbox import Postbox, telegram_customer
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore, GateRequest
from handlers.customer.delivery import deliver_magnet

EMAIL_ATTEMPTS = 3
log = structlog.get_logger(__name__)


async def ask_for_gate(
    message: Message,
    store: FunnelStore,
    customer_id: int,
    magnet: Magnet,
    source: str,
    language: str,
    definition: FunnelDefinition,
) -> None:
    """Remember what waits behind the gate, and ask for what it costs."""
    async with store.transaction() as tx:
        await tx.open_gate(customer_id, magnet.id, source, magnet.gate, epoch_ms(message.date))
    title = magnet.title.get(language) or magnet.title[definition.default_language]
    if magnet.gate == "contact":
        button = KeyboardButton(
            text=definition.text("share_contact_button", language), request_contact=True
        )
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True
        )
        await message.answer(
            definition.text("gate_contact", language, title=title), reply_markup=keyboard
        )
    elif magnet.gate == "channel":
        await message.answer(
            definition.text("gate_channel", language, title=title),
            reply_markup=_channel_keyboard(magnet, language, definition),
        )
    else:
        await message.answer(definition.text("gate_email", language, title=title))


CHECK_SUBSCRIPTION = "gate:channel"
SUBSCRIBED = {"creator", "administrator", "member", "restricted"}


def _channel_keyboard(
    magnet: Magnet, language: str, definition: FunnelDefinition
) -> InlineKeyboardMarkup:
    check = InlineKeyboardButton(
        text=definition.text("gate_channel_check", language), callback_data=CHECK_SUBSCRIPTION
    )
    channel = magnet.channel or ""
    if not channel.startswith("@"):
        return InlineKeyboardMarkup(inline_keyboard=[[check]])
    open_channel = InlineKeyboardButton(
        text=definition.text("gate_channel_open", language), url=f"https://t.me/{channel[1:]}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[open_channel], [check]])


async def is_subscribed(bot: Bot, channel: str, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(channel, user_id)
    except TelegramBadRequest:
        # The bot is not in the channel, or the user is unknown to it: not a subscriber.
        return False
    return member.status in SUBSCRIBED


async def on_check_subscription(
    callback: CallbackQuery,
    bot: Bot,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    report_defaults: ReportDefaults,
) -> None:
    language = definition.language_for(event_from_user.language_code)
    waiting = await _waiting(store, event_from_user, clock, "channel")
    magnet = definition.magnet(waiting[1].magnet) if waiting else None
    if waiting is None or magnet is None or not isinstance(callback.message, Message):
        await callback.answer(definition.text("button_expired", language), show_alert=True)
        return
    if not await is_subscribed(bot, magnet.channel or "", event_from_user.id):
        await callback.answer(definition.text("gate_channel_not_yet", language), show_alert=True)
        return
    await callback.answer()
    customer, request = waiting
    await _open(callback.message, event_update, store, definition, postbox, admin_ids, language,
                customer, request, None, clock.now(), report_defaults.zone)  # fmt: skip


async def _waiting(
    store: FunnelStore, user: User, clock: Clock, gate: str
) -> tuple[int, GateRequest] | None:
    async with store.transaction() as tx:
        customer = await telegram_customer(tx, user.id, epoch_ms(clock.now()))
        request = await tx.pending_gate(customer)
    if request is None or request.gate != gate:
        return None
    return customer, request


async def on_contact(
    message: Message,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    phone_region: str,
    report_defaults: ReportDefaults,
) -> None:
    language = definition.language_for(event_from_user.language_code)
    waiting = await _waiting(store, event_from_user, clock, "contact")
    contact = message.contact
    phone = None if contact is None else normalize_phone(contact.phone_number, phone_region)
    # Only the customer's own number counts: a forwarded card is someone else's.
    own = contact is not None and contact.user_id == event_from_user.id and phone is not None
    if waiting is None:
        if own and phone is not None:
            await _own_phone(store, clock, event_from_user, phone)
            await message.answer(definition.text("phone_linked", language))
        else:
            await message.answer(
                definition.text("help", language, first_name=event_from_user.first_name)
            )
        return
    customer, request = waiting
    if not own or phone is None:
        await message.answer(definition.text("gate_contact_foreign", language))
        return
    await _open(
        message, event_update, store, definition, postbox, admin_ids, language,
        customer, request, phone_key(phone), message.date, report_defaults.zone,
    )  # fmt: skip


async def _own_phone(store: FunnelStore, clock: Clock, user: User, phone: str) -> None:
    """A contact shared outside any gate: orders placed with this number become the
    customer's, so that their news can reach this chat."""
    now = clock.now()
    async with store.transaction() as tx:
        customer = await telegram_customer(tx, user.id, epoch_ms(now))
    applied = await phone_verified(store, customer, phone, now)
    log.info("phone verified", customer_id=customer, linked=len(applied.linked))


async def on_email(
    message: Message,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    report_defaults: ReportDefaults,
) -> None:
    waiting = await _waiting(store, event_from_user, clock, "email")
    if waiting is None:
        raise SkipHandler
    customer, request = waiting
    language = definition.language_for(event_from_user.language_code)
    email = normalize_email(message.text or "")
    if email is None:
        async with store.transaction() as tx:
            attempts = await tx.gate_failed(customer)
            if attempts >= EMAIL_ATTEMPTS:
                await tx.close_gate(customer)
        if attempts >= EMAIL_ATTEMPTS:
            await message.answer(definition.text("gate_email_given_up", language))
        else:
            left = EMAIL_ATTEMPTS - attempts
            await message.answer(definition.text("gate_email_invalid", language, left=left))
        return
    await _open(
        message, event_update, store, definition, postbox, admin_ids, language,
        customer, request, email_key(email), message.date, report_defaults.zone,
    )  # fmt: skip


async def _open(
    message: Message,
    event_update: Update,
    store: FunnelStore,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    language: str,
    customer: int,
    request: GateRequest,
    key: str | None,
    at: datetime,
    shop_zone: ZoneInfo,
) -> None:
    update_key = f"telegram:update:{event_update.update_id}"
    await gate_passed(store, customer, request.gate, key, request.magnet, at, update_key)
    magnet = definition.magnet(request.magnet)
    if magnet is None:
        # The magnet left the funnel file while the customer was at its gate.
        await message.answer(definition.text("sorry", language))
        return
    if await deliver_magnet(
        message, magnet, language, definition, postbox, admin_ids,
        store=store, customer_id=customer, shop_zone=shop_zone, at=at,
    ):  # fmt: skip
        await magnet_delivered(store, customer, magnet, request.source, at)
        await schedule_followups(postbox, customer, magnet, at)
    log.info("gate passed", customer_id=customer, gate=request.gate, magnet=magnet.id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_contact, F.contact)
    router.message.register(on_email, F.text & ~F.text.startswith("/"))
    router.callback_query.register(on_check_subscription, F.data == CHECK_SUBSCRIPTION)
    return router
