"""/stop: after a confirmation, the customer opts out of marketing; order news still comes."""

from __future__ import annotations

import structlog
from aiogram import F, Router
from aiogram.filters import Command
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
from funnel.events import Event, epoch_ms
from funnel.postbox import telegram_customer
from funnel.store.base import FunnelStore

UNSUBSCRIBED = "unsubscribed"
CONFIRM, KEEP = "stop:yes", "stop:no"
log = structlog.get_logger(__name__)


async def on_stop(message: Message, event_from_user: User, definition: FunnelDefinition) -> None:
    language = definition.language_for(event_from_user.language_code)
    buttons = [
        [InlineKeyboardButton(text=definition.text("stop_yes", language), callback_data=CONFIRM)],
        [InlineKeyboardButton(text=definition.text("stop_no", language), callback_data=KEEP)],
    ]
    await message.answer(
        definition.text("stop_confirm", language),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons),
    )


async def on_confirm(
    callback: CallbackQuery,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
) -> None:
    now = clock.now()
    async with store.transaction() as tx:
        customer = await telegram_customer(tx, event_from_user.id, epoch_ms(now))
        cancelled = await tx.opt_out(customer, epoch_ms(now))
        await tx.record(
            Event(
                customer_id=customer,
                type=UNSUBSCRIBED,
                occurred_at=now,
                key=f"telegram:update:{event_update.update_id}",
                platform="telegram",
            )
        )
    log.info("customer unsubscribed", customer_id=customer, cancelled=cancelled)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            definition.text(
                "stopped",
                definition.language_for(event_from_user.language_code),
                first_name=event_from_user.first_name,
            )
        )


async def on_keep(
    callback: CallbackQuery, event_from_user: User, definition: FunnelDefinition
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            definition.text("stop_kept", definition.language_for(event_from_user.language_code))
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_stop, Command("stop"))
    router.callback_query.register(on_confirm, F.data == CONFIRM)
    router.callback_query.register(on_keep, F.data == KEEP)
    return router
