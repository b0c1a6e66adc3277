"""/start, with or without a deep-link payload: the customer's entry into the funnel."""

from __future__ import annotations

import structlog
from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update, User

from funnel.definition import FunnelDefinition
from funnel.entry import Visitor, enter
from funnel.store.base import FunnelStore

log = structlog.get_logger(__name__)


async def on_start(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    definition: FunnelDefinition,
) -> None:
    entry = await enter(
        store,
        Visitor(event_from_user.id, event_from_user.language_code),
        command.args,
        occurred_at=message.date,
        key=f"telegram:update:{event_update.update_id}",
        languages=tuple(definition.languages),
        default_language=definition.default_language,
    )
    log.info(
        "customer entered",
        customer_id=entry.customer.id,
        source=entry.source,
        first_touch=entry.first_touch,
    )
    template = "welcome" if entry.first_touch else "welcome_back"
    await message.answer(
        definition.text(template, entry.language, first_name=event_from_user.first_name)
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_start, CommandStart())
    return router
