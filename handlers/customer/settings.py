"""A customer's own settings: /timezone (a city button or an offset) and /help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.events import epoch_ms
from funnel.postbox import telegram_customer
from funnel.store.base import FunnelStore
from funnel.zones import CITIES, zone_from_offset

ZONE_BUTTON = "tz:"


async def _save(store: FunnelStore, clock: Clock, user: User, zone: str) -> None:
    async with store.transaction() as tx:
        customer = await telegram_customer(tx, user.id, epoch_ms(clock.now()))
        await tx.set_time_zone(customer, zone)


async def on_timezone(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
) -> None:
    language = definition.language_for(event_from_user.language_code)
    if command.args:
        zone = zone_from_offset(command.args)
        if zone is None:
            await message.answer(definition.text("timezone_bad", language))
            return
        await _save(store, clock, event_from_user, zone)
        await message.answer(definition.text("timezone_set", language, zone=zone))
        return
    names = list(CITIES)
    rows = [
        [
            InlineKeyboardButton(text=name, callback_data=f"{ZONE_BUTTON}{CITIES[name]}")
            for name in names[start : start + 2]
        ]
        for start in range(0, len(names), 2)
    ]
    await message.answer(
        definition.text("timezone_ask", language),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_zone_button(
    callback: CallbackQuery,
    event_from_user: User,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
) -> None:
    language = definition.language_for(event_from_user.language_code)
    zone = (callback.data or "").removeprefix(ZONE_BUTTON)
    if zone not in CITIES.values():
        await callback.answer(definition.text("button_expired", language), show_alert=True)
        return
    await _save(store, clock, event_from_user, zone)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(definition.text("timezone_set", language, zone=zone))


async def on_help(message: Message, event_from_user: User, definition: FunnelDefinition) -> None:
    language = definition.language_for(event_from_user.language_code)
    await message.answer(definition.text("about", language))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_timezone, Command("timezone"))
    router.message.register(on_help, Command("help"))
    router.callback_query.register(on_zone_button, F.data.startswith(ZONE_BUTTON))
    return router
