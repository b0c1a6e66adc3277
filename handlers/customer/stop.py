"""/stop: the customer opts out of marketing; transactional messages still come."""

from __future__ import annotations

import structlog
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message, Update, User

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.events import Event, epoch_ms
from funnel.postbox import telegram_customer
from funnel.store.base import FunnelStore

UNSUBSCRIBED = "unsubscribed"
log = structlog.get_logger(__name__)


async def on_stop(
    message: Message,
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
                occurred_at=message.date,
                key=f"telegram:update:{event_update.update_id}",
                platform="telegram",
            )
        )
        found = await tx.customer_by_telegram(event_from_user.id)
    log.info("customer opted out", customer_id=customer, cancelled=cancelled)
    language = (found.language if found else None) or definition.default_language
    await message.answer(
        definition.text("stopped", language, first_name=event_from_user.first_name)
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_stop, Command("stop"))
    return router
