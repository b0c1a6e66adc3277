"""Anything no other handler understood gets a short, polite pointer to what works."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message, User

from funnel.customers import pick_language
from funnel.definition import FunnelDefinition


async def on_anything_else(
    message: Message, event_from_user: User, definition: FunnelDefinition
) -> None:
    language = pick_language(
        event_from_user.language_code, tuple(definition.languages), definition.default_language
    )
    await message.answer(definition.text("help", language, first_name=event_from_user.first_name))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_anything_else)
    return router
