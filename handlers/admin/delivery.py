"""/delivery [days]: parcels by status, buy-out and return rates, the median time to delivery,
and the parcels waiting at pickup points with their deadlines."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.delivery_report import delivery_report, summary_text, waiting_text
from funnel.events import epoch_ms
from funnel.store.base import FunnelStore
from handlers.admin.replies import block, messages, read_days

USAGE = "/delivery [days] — parcels first reported in the last 30 days by default"


async def on_delivery(
    message: Message,
    command: CommandObject,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
) -> None:
    days = await read_days(message, command, USAGE)
    if days is None:
        return
    now = clock.now()
    async with store.transaction() as tx:
        report = await delivery_report(
            tx, definition.delivery, epoch_ms(now - timedelta(days=days)), days
        )
    blocks = [
        block(f"Parcels, last {days} days", summary_text(report)),
        block("Waiting at pickup points", waiting_text(report, now)),
    ]
    for text in messages(blocks):
        await message.answer(text)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_delivery, Command("delivery"))
    return router
