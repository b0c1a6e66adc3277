"""The last line of defence: a failing handler is logged, and the customer gets a polite reply."""

from __future__ import annotations

import structlog
from aiogram import Router
from aiogram.types import ErrorEvent

from funnel.definition import FunnelDefinition

log = structlog.get_logger(__name__)


async def on_error(event: ErrorEvent, definition: FunnelDefinition) -> None:
    log.error("handler failed", exc_info=event.exception)
    message = event.update.message
    if message is None or message.from_user is None:
        return
    language = definition.language_for(message.from_user.language_code)
    try:
        await message.answer(definition.text("sorry", language))
    except Exception:  # the apology itself must never raise out of here
        log.warning("could not apologise to the customer", exc_info=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
