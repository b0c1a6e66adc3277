"""Anything no other handler understood gets a short, polite answer: text and buttons alike."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message, User

from funnel.definition import FunnelDefinition


async def on_anything_else(
    message: Message, event_from_user: User, definition: FunnelDefinition
) -> None:
    language = definition.language_for(event_from_user.language_code)
    await message.answer(definition.text("help", language, first_name=event_from_user.first_name))


async def on_unknown_button(
    callback: CallbackQuery, event_from_user: User, definition: FunnelDefinition
) -> None:
    # A button from an old message, or from a flow since removed: stop the client's spinner.
    language = definition.language_for(event_from_user.language_code)
    await callback.answer(definition.text("button_expired", language), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_anything_else)
    router.callback_query.register(on_unknown_button)
    return router
