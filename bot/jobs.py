"""The scheduler's jobs that belong to the bot itself: the admins' daily digest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.scheduler import JobHandler
from funnel.clock import Clock
from funnel.digest import DIGEST_JOB, DIGEST_KEY, DIGEST_TEMPLATE, next_local
from funnel.events import epoch_ms
from funnel.outbox import TRANSACTIONAL, Intent
from funnel.postbox import telegram_customer
from funnel.store.base import FunnelStore


async def ensure_digest(store: FunnelStore, clock: Clock, zone: ZoneInfo, at: time) -> None:
    """Schedule the next digest unless one is scheduled (perhaps overdue after a restart)."""
    due = epoch_ms(next_local(clock.now(), at, zone))
    async with store.transaction() as tx:
        await tx.schedule(DIGEST_JOB, DIGEST_KEY, due, {}, replace=False)


def digest_job(
    store: FunnelStore,
    clock: Clock,
    admin_ids: Iterable[int],
    zone: ZoneInfo,
    at: time,
    wake_sender: Callable[[], None],
) -> JobHandler:
    admins = tuple(admin_ids)

    async def run(_: object) -> None:
        now = clock.now()
        yesterday = now.astimezone(zone).date() - timedelta(days=1)
        async with store.transaction() as tx:
            opted_out = await tx.digest_opted_out()
            for admin in admins:
                if admin in opted_out:
                    continue
                await tx.enqueue(
                    Intent(
                        customer_id=await telegram_customer(tx, admin, epoch_ms(now)),
                        template=DIGEST_TEMPLATE,
                        kind=TRANSACTIONAL,
                        not_before=now,
                        variables={"day": yesterday.isoformat()},
                        dedupe_key=f"digest:{yesterday}:{admin}",
                        quiet_hours=False,
                    ),
                    epoch_ms(now),
                )
            await tx.schedule(DIGEST_JOB, DIGEST_KEY, epoch_ms(next_local(now, at, zone)), {})
        wake_sender()

    return run
