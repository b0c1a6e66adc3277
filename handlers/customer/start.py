"""/start, with or without a deep-link payload: the customer's entry into the funnel, and the
lead magnet the link names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.entry import Visitor, enter
from funnel.events import epoch_ms
from funnel.lead import gate_passed, magnet_delivered, magnet_requested, schedule_followups
from funnel.linking import SHOP_SOURCE, claim, is_token
from funnel.magnets import Entry, Magnet, read_payload
from funnel.postbox import Postbox, telegram_customer
from funnel.reporting import ReportDefaults
from funnel.sources import DIRECT
from funnel.store.base import FunnelStore
from handlers.customer.delivery import deliver_magnet
from handlers.customer.gates import ask_for_gate, is_subscribed

log = structlog.get_logger(__name__)


async def on_start(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    bot: Bot,
    report_defaults: ReportDefaults,
) -> None:
    key = f"telegram:update:{event_update.update_id}"
    if is_token(command.args):
        await _link_order(message, event_from_user, store, definition, command.args or "", key)
        return
    asked = read_payload(command.args, definition.offered_magnets)
    entry = await enter(
        store,
        Visitor(event_from_user.id, event_from_user.language_code),
        command.args,
        asked.source,
        occurred_at=message.date,
        key=key,
        languages=tuple(definition.languages),
        default_language=definition.default_language,
    )
    log.info(
        "customer entered",
        customer_id=entry.customer.id,
        source=entry.source,
        first_touch=entry.first_touch,
        magnet=asked.magnet,
    )
    name = event_from_user.first_name
    if asked.magnet is None:
        template = "welcome" if entry.first_touch else "welcome_back"
        await message.answer(definition.text(template, entry.language, first_name=name))
        return
    magnet = definition.offered_magnet(asked.magnet)
    await magnet_requested(store, entry.customer.id, asked, magnet, message.date, key)
    if magnet is None:
        available = "\n".join(
            f"• {m.title.get(entry.language) or m.title[definition.default_language]}"
            for m in definition.offered_magnets
        )
        await message.answer(
            definition.text("magnet_unknown", entry.language, first_name=name, magnets=available),
            reply_markup=magnet_keyboard(definition, entry.language),
        )
        return
    await offer(
        message, event_from_user.id, entry.customer.id, magnet, asked.source, entry.language,
        message.date, key, store, definition, postbox, admin_ids, bot, report_defaults.zone,
    )  # fmt: skip


async def _link_order(
    message: Message,
    user: User,
    store: FunnelStore,
    definition: FunnelDefinition,
    token: str,
    key: str,
) -> None:
    """A link from the shop's thank-you page: the token ties its order to this chat. The token
    itself is not kept with the entry; it proves who the customer is and stays in its table."""
    entry = await enter(
        store, Visitor(user.id, user.language_code), None, SHOP_SOURCE,
        occurred_at=message.date, key=key, languages=tuple(definition.languages),
        default_language=definition.default_language,
    )  # fmt: skip
    claimed = await claim(store, token, entry.customer.id, message.date)
    log.info("link token opened", customer_id=entry.customer.id, accepted=claimed.accepted,
             linked=len(claimed.applied.linked))  # fmt: skip
    if claimed.accepted:
        text = definition.text("link_claimed", entry.language, first_name=user.first_name)
    else:
        text = definition.text("link_unknown", entry.language)
    await message.answer(text)


async def offer(
    message: Message,
    telegram_user_id: int,
    customer_id: int,
    magnet: Magnet,
    source: str,
    language: str,
    at: datetime,
    key: str,
    store: FunnelStore,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    bot: Bot,
    shop_zone: ZoneInfo,
) -> None:
    """The magnet, or first its gate; a channel's subscriber passes the gate at once."""
    already = magnet.gate == "channel" and await is_subscribed(
        bot, magnet.channel or "", telegram_user_id
    )
    if already:
        await gate_passed(store, customer_id, "channel", None, magnet.id, at, key)
    elif magnet.gate != "none":
        await ask_for_gate(message, store, customer_id, magnet, source, language, definition)
        return
    delivered = await deliver_magnet(
        message, magnet, language, definition, postbox, admin_ids,
        store=store, customer_id=customer_id, shop_zone=shop_zone, at=at,
    )  # fmt: skip
    if not delivered:
        return
    await magnet_delivered(store, customer_id, magnet, source, at)
    await schedule_followups(postbox, customer_id, magnet, at)


MAGNET_BUTTON = "magnet:"


def magnet_keyboard(definition: FunnelDefinition, language: str) -> InlineKeyboardMarkup:
    """Every magnet as a button: some clients do not resend /start for a link opened before."""
    rows = [
        [
            InlineKeyboardButton(
                text=m.title.get(language) or m.title[definition.default_language],
                callback_data=f"{MAGNET_BUTTON}{m.id}",
            )
        ]
        for m in definition.offered_magnets
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def on_magnet_button(
    callback: CallbackQuery,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    bot: Bot,
    report_defaults: ReportDefaults,
) -> None:
    language = definition.language_for(event_from_user.language_code)
    magnet = definition.offered_magnet((callback.data or "").removeprefix(MAGNET_BUTTON))
    if magnet is None or not isinstance(callback.message, Message):
        await callback.answer(definition.text("button_expired", language), show_alert=True)
        return
    await callback.answer()
    now = clock.now()
    key = f"telegram:update:{event_update.update_id}"
    async with store.transaction() as tx:
        customer = await telegram_customer(tx, event_from_user.id, epoch_ms(now))
    asked = Entry(magnet.id, DIRECT)
    await magnet_requested(store, customer, asked, magnet, now, key)
    await offer(
        callback.message, event_from_user.id, customer, magnet, DIRECT, language, now, key,
        store, definition, postbox, admin_ids, bot, report_defaults.zone,
    )  # fmt: skip


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_start, CommandStart())
    router.callback_query.register(on_magnet_button, F.data.startswith(MAGNET_BUTTON))
    return router
