"""/webhooks: what the shops and carriers sent, what failed and why, what was refused; and
`/webhooks replay <id>|failed`, `/webhooks drop <id>` for the failed ones."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.inbox import FAILED, DeliveryLine, PlatformInbox
from funnel.report_text import duration
from funnel.store.base import FunnelStore
from handlers.admin.replies import block, messages

DAY_MS = 86_400_000
RECENT = 10
USAGE = "/webhooks — overview; /webhooks replay <id>|failed; /webhooks drop <id>"


def _ago(now_ms: int, then_ms: int | None) -> str:
    return "never" if then_ms is None else f"{duration(max(0, now_ms - then_ms) / 1000)} ago"


def _platforms(rows: Sequence[PlatformInbox], enabled: Sequence[str], now_ms: int) -> str:
    lines = [f"enabled: {', '.join(enabled) or 'none (see funnelbot check)'}", ""]
    if not rows:
        lines.append("nothing received yet")
    for row in rows:
        refused = ", ".join(f"{reason} {count}" for reason, count in sorted(row.rejected.items()))
        lines += [
            f"{row.platform}",
            f"  last 24 h  {row.received_last_day}   last {_ago(now_ms, row.last_received_ms)}",
            f"  pending    {row.pending}   failed {row.failed}",
            f"  refused    {refused or '0'}"
            + (f"   last {_ago(now_ms, row.last_rejected_ms)}" if row.last_rejected_ms else ""),
        ]
    return "\n".join(lines)


def _lines(rows: Sequence[DeliveryLine], now_ms: int, with_errors: bool) -> str:
    out: list[str] = []
    for row in rows:
        out.append(f"#{row.id:<6} {row.platform:<11} {row.topic:<20} {row.status:<9} "
                   f"{_ago(now_ms, row.received_ms)}")  # fmt: skip
        if with_errors and row.error:
            out.append(f"        {row.error[:200]}")
    return "\n".join(out) or "none"


async def on_webhooks(
    message: Message,
    command: CommandObject,
    store: FunnelStore,
    clock: Clock,
    wake_inbox: Callable[[], None],
    webhook_platforms: tuple[str, ...],
) -> None:
    words = (command.args or "").split()
    if words:
        await message.answer(await _act(words, store, wake_inbox))
        return
    now_ms = epoch_ms(clock.now())
    async with store.transaction() as tx:
        overview = await tx.inbox_overview(now_ms - DAY_MS)
        recent = await tx.recent_deliveries(RECENT)
        failed = await tx.recent_deliveries(RECENT, FAILED)
    blocks = [
        block("Webhooks", _platforms(overview, webhook_platforms, now_ms)),
        block("Last deliveries", _lines(recent, now_ms, with_errors=False)),
        block("Failed (replay or drop them)", _lines(failed, now_ms, with_errors=True)),
    ]
    for text in messages(blocks):
        await message.answer(text)


async def _act(words: list[str], store: FunnelStore, wake_inbox: Callable[[], None]) -> str:
    action, target = words[0].lower(), (words[1] if len(words) > 1 else "")
    if action == "replay" and (target == "failed" or target.isdigit()):
        async with store.transaction() as tx:
            count = await tx.requeue_deliveries(None if target == "failed" else [int(target)])
        wake_inbox()
        if count == 0:
            return "Nothing to replay: only failed deliveries can be replayed."
        return f"{count} {'delivery' if count == 1 else 'deliveries'} queued again."
    if action == "drop" and target.isdigit():
        async with store.transaction() as tx:
            dropped = await tx.drop_delivery(int(target))
        if not dropped:
            return f"#{int(target)} is not a failed delivery; nothing was dropped."
        return f"#{int(target)} dropped for good."
    return f"I did not understand that.\n{html.escape(USAGE)}"


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_webhooks, Command("webhooks"))
    return router
