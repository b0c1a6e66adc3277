"""/health: is the bot well, and is data still arriving from every platform?"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from funnel.clock import Clock
from funnel.report_text import duration
from funnel.store.base import FunnelStore
from handlers.admin.replies import block


async def on_health(
    message: Message, store: FunnelStore, clock: Clock, started_at: datetime
) -> None:
    now = clock.now()
    async with store.transaction() as tx:
        health = await tx.health()
    lines = [
        f"uptime     {duration((now - started_at).total_seconds())}",
        f"database   {health.size_bytes / 1_048_576:.1f} MiB",
        f"events     {health.events}",
        f"customers  {health.customers}",
    ]
    if health.platforms:
        lines.append("")
        lines.append("last event per platform:")
        for activity in health.platforms:
            age = duration((now - activity.last_received_at).total_seconds())
            lines.append(f"  {activity.platform:<12} {age:>7} ago  {activity.last_type}")
    else:
        lines.append("no events yet")
    await message.answer(block("Health", "\n".join(lines)))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_health, Command("health"))
    return router
