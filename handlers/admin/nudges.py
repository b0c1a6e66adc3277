"""/nudges [days]: what the abandoned-cart reminders did, and the lift against the holdout."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.nudge_report import lift_text, nudge_report, steps_text, summary_text
from funnel.store.base import FunnelStore
from handlers.admin.replies import block, messages, read_days

USAGE = "/nudges [days] — carts abandoned in the last 30 days by default"


async def on_nudges(
    message: Message, command: CommandObject, store: FunnelStore, clock: Clock
) -> None:
    days = await read_days(message, command, USAGE)
    if days is None:
        return
    now = clock.now()
    async with store.transaction() as tx:
        report = await nudge_report(tx, epoch_ms(now - timedelta(days=days)), days)
    blocks = [
        block(f"Abandoned carts, last {days} days", summary_text(report)),
        block("Recovery rate against the holdout", lift_text(report)),
        block("Per step", steps_text(report)),
    ]
    for text in messages(blocks):
        await message.answer(text)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_nudges, Command("nudges"))
    return router
