"""Admin commands from anyone else: logged, and answered as any customer message would be."""

from __future__ import annotations

import structlog
from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, User

from funnel.definition import FunnelDefinition
from handlers.customer.fallback import on_anything_else

log = structlog.get_logger(__name__)


async def on_refused(
    message: Message, command: CommandObject, event_from_user: User, definition: FunnelDefinition
) -> None:
    log.warning("admin command refused", command=command.command, user_id=event_from_user.id)
    await on_anything_else(message, event_from_user, definition)


def create_router(commands: list[str]) -> Router:
    router = Router(name=__name__)
    router.message.register(on_refused, Command(*commands))
    return router
