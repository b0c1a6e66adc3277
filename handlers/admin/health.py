"""/health: is the bot well, and is data still arriving from every platform?"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.report_text import duration
from funnel.store.base import FunnelStore
from handlers.admin.replies import block


async def on_health(
    message: Message, store: FunnelStore, clock: Clock, started_at: datetime
) -> None:
    now = clock.now()
    async with store.transaction() as tx:
        health = await tx.health()
        outbox = await tx.outbox_health(epoch_ms(now))
    lines = [
        f"uptime     {duration((now - started_at).total_seconds())}",
        f"database   {health.size_bytes / 1_048_576:.1f} MiB",
        f"events     {health.events}",
        f"customers  {health.customers}",
    ]
    oldest = (
        "—"
        if outbox.oldest_due_ms is None
        else f"{duration(max(0, epoch_ms(now) - outbox.oldest_due_ms) / 1000)} overdue"
        if outbox.oldest_due_ms <= epoch_ms(now)
        else f"in {duration((outbox.oldest_due_ms - epoch_ms(now)) / 1000)}"
    )
    lines += [
        "",
        "outbox:",
        f"  pending    {outbox.pending}",
        f"  sending    {outbox.sending}",
        f"  failed 24h {outbox.failed_last_day}",
        f"  oldest due {oldest}",
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
