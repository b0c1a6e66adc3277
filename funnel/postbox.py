"""How the capabilities send: enqueue an intent, cancel by key, alert the admins."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from funnel.clock import Clock
from funnel.customers import NewCustomer
from funnel.events import epoch_ms, from_epoch_ms
from funnel.outbox import TRANSACTIONAL, Intent
from funnel.store.base import FunnelStore, FunnelTransaction

ALERT_TEMPLATE = "admin.alert"
ALERT_WINDOW_MS = 3_600_000


class Postbox:
    def __init__(
        self, store: FunnelStore, clock: Clock, wake: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake

    async def send(self, intent: Intent) -> int:
        """Enqueue (idempotent on the dedupe key) and let the sender know."""
        async with self._store.transaction() as tx:
            row = await tx.enqueue(intent, epoch_ms(self._clock.now()))
        self._wake()
        return row

    async def cancel(self, cancel_key: str, reason: str) -> int:
        async with self._store.transaction() as tx:
            return await tx.cancel(cancel_key, reason, epoch_ms(self._clock.now()))

    async def alert(self, admin_ids: Iterable[int], key: str, text: str) -> bool:
        """Tell every admin, at once and whatever the hour; the same alert within an hour of
        the last one is collapsed into it. Returns whether it went out."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            if not await tx.note_alert(key, epoch_ms(now), ALERT_WINDOW_MS):
                return False
            for admin in admin_ids:
                await tx.enqueue(
                    Intent(
                        customer_id=await telegram_customer(tx, admin, now_ms=epoch_ms(now)),
                        template=ALERT_TEMPLATE,
                        kind=TRANSACTIONAL,
                        not_before=now,
                        variables={"text": text},
                        dedupe_key=f"alert:{key}:{epoch_ms(now)}:{admin}",
                        quiet_hours=False,
                    ),
                    epoch_ms(now),
                )
        self._wake()
        return True


async def telegram_customer(tx: FunnelTransaction, telegram_user_id: int, now_ms: int) -> int:
    """The customer a Telegram user is, created on first use (admins become customers too)."""
    found = await tx.customer_by_telegram(telegram_user_id)
    if found is not None:
        return found.id
    created = await tx.add_customer(
        NewCustomer(first_seen_at=from_epoch_ms(now_ms), telegram_user_id=telegram_user_id)
    )
    return created.id
