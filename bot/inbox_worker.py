"""The inbox worker: processes kept deliveries in order of arrival, each exactly once.

Parsing runs outside any unit of work; applying a delivery and marking it processed commit
together, so a crash in between leaves it pending and it is simply processed again (its
events are keyed, so nothing counts twice). A delivery that cannot be parsed is marked failed
with the reason and the admins are told; `funnelbot replay` retries it after the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import structlog

from bot.idle import idle
from funnel.clock import Clock
from funnel.commerce import Change
from funnel.events import epoch_ms
from funnel.inbox import DEFAULT_RETENTION_DAYS, Delivery
from funnel.ingest import apply_changes
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore
from handlers.webhooks.common import Unparseable
from handlers.webhooks.platforms import Parser

log = structlog.get_logger(__name__)

BATCH = 100
PRUNE_EVERY = timedelta(hours=1)
# While acknowledgements are busy, wait this long between deliveries, at most MAX_DEFER_S in a
# row: a burst is acknowledged at full speed and processing still advances.
DEFER_STEP_S = 0.01
MAX_DEFER_S = 0.1


@dataclass(frozen=True, slots=True)
class Outcome:
    processed: int
    failed: int


class InboxWorker:
    def __init__(
        self,
        store: FunnelStore,
        clock: Clock,
        parsers: Mapping[str, Parser],
        *,
        region: str,
        postbox: Postbox | None = None,
        admin_ids: Iterable[int] = (),
        retention_days: int = DEFAULT_RETENTION_DAYS,
        busy: Callable[[], bool] = lambda: False,
        on_applied: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._parsers = parsers
        self._region = region
        self._postbox = postbox
        self._admin_ids = tuple(admin_ids)
        self._retention = timedelta(days=retention_days)
        self._wake = asyncio.Event()
        self._last_prune_ms: int | None = None
        self._busy = busy
        # Applying a delivery schedules work (a cart check, a parcel message): the scheduler is
        # told.
        self._on_applied = on_applied

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> Outcome:
        """Process every pending delivery, oldest first, until none is left."""
        processed = failed = 0
        after = 0
        while True:
            async with self._store.transaction() as tx:
                batch = await tx.waiting_deliveries(after, BATCH)
            if not batch:
                return Outcome(processed, failed)
            for delivery in batch:
                await self._give_way()
                if await self.process(delivery):
                    processed += 1
                else:
                    failed += 1
            after = batch[-1].id

    async def _give_way(self) -> None:
        """Acknowledgements first: the platforms are waiting on them, nobody waits on this.
        This is scheduling, not timekeeping, so it sleeps in real time."""
        waited = 0.0
        while self._busy() and waited < MAX_DEFER_S:
            await asyncio.sleep(DEFER_STEP_S)
            waited += DEFER_STEP_S

    async def process(self, delivery: Delivery) -> bool:
        """Apply one delivery; False when it failed and was kept as failed."""
        bound = structlog.contextvars.bound_contextvars(
            inbox_id=delivery.id, platform=delivery.platform, topic=delivery.topic
        )
        with bound:
            try:
                changes = self._parse(delivery)
                async with self._store.transaction() as tx:
                    applied = await apply_changes(
                        tx, changes, delivery.platform, delivery.id, self._clock.now()
                    )
                    await tx.finish_delivery(delivery.id, epoch_ms(self._clock.now()))
            except Unparseable as error:
                await self._fail(delivery, str(error))
                return False
            except Exception as error:  # a bug must not stop the deliveries behind this one
                log.exception("delivery processing failed")
                await self._fail(delivery, f"internal error: {type(error).__name__}: {error}")
                return False
            log.info("delivery processed", changes=len(changes), recorded=len(applied.recorded))
            if changes:
                self._on_applied()
            return True

    def _parse(self, delivery: Delivery) -> list[Change]:
        parser = self._parsers.get(delivery.platform)
        if parser is None:
            raise Unparseable(f"no parser for platform {delivery.platform!r}")
        return parser(delivery.topic, delivery.body, self._region)

    async def _fail(self, delivery: Delivery, error: str) -> None:
        log.warning("delivery failed", error=error)
        async with self._store.transaction() as tx:
            await tx.fail_delivery(delivery.id, error[:1000], epoch_ms(self._clock.now()))
        if self._postbox is not None and self._admin_ids:
            text = (
                f"A {delivery.platform} webhook ({delivery.topic}, inbox #{delivery.id}) could "
                f"not be processed: {error[:300]}\n/webhooks lists it; once the cause is fixed, "
                f"/webhooks replay {delivery.id} or `funnelbot replay {delivery.id}` retries it."
            )
            await self._postbox.alert(self._admin_ids, f"inbox:{delivery.platform}", text)

    async def prune(self) -> int:
        """Forget processed deliveries older than the retention; failed ones stay."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            pruned = await tx.prune_deliveries(epoch_ms(now - self._retention))
        self._last_prune_ms = epoch_ms(now)
        if pruned:
            log.info("processed deliveries pruned", count=pruned)
        return pruned

    async def run(self, stop: asyncio.Event) -> None:
        """Drain whatever waits (a restart's leftovers first), then wait to be woken."""
        while not stop.is_set():
            self._wake.clear()
            await self.drain()
            if self._next_prune_ms() <= epoch_ms(self._clock.now()):
                await self.prune()
            if self._wake.is_set():
                continue  # a delivery came in while draining
            await idle(self._clock, self._next_prune_async, self._wake, stop)

    def _next_prune_ms(self) -> int:
        if self._last_prune_ms is None:
            return 0
        return self._last_prune_ms + int(PRUNE_EVERY.total_seconds() * 1000)

    async def _next_prune_async(self) -> int | None:
        return self._next_prune_ms()
