"""The durable scheduler: runs stored jobs when they fall due, sleeping until the earliest.

It is woken early when an earlier job is scheduled, and on start-up it runs whatever fell due
while the bot was down. Jobs are rows with a kind, a key and a JSON payload; nothing is pickled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog

from bot.idle import idle
from funnel.clock import Clock
from funnel.events import epoch_ms
from funnel.store.base import FunnelStore, Job

log = structlog.get_logger(__name__)

JobHandler = Callable[[Job], Awaitable[None]]
BATCH = 100
RETRY_MS = 60_000
# Work scheduled by a part of the bot that cannot wake the scheduler (a customer linking an
# order in chat) waits at most this long.
LOOK_AGAIN_MS = 60_000


class Scheduler:
    def __init__(
        self, store: FunnelStore, clock: Clock, handlers: Mapping[str, JobHandler]
    ) -> None:
        self._store = store
        self._clock = clock
        self._handlers = dict(handlers)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def add(self, kind: str, handler: JobHandler) -> None:
        """A job kind that depends on something built after the scheduler (an API client)."""
        self._handlers[kind] = handler

    async def run_due(self) -> int:
        """Run every job due now; returns how many ran."""
        async with self._store.transaction() as tx:
            jobs = await tx.due_jobs(epoch_ms(self._clock.now()), BATCH)
        for job in jobs:
            handler = self._handlers.get(job.kind)
            if handler is None:
                log.error("no handler for a scheduled job", kind=job.kind, key=job.key)
            else:
                try:
                    await handler(job)
                except Exception:  # one failing job must not stop the others
                    log.exception("scheduled job failed", kind=job.kind, key=job.key)
                    async with self._store.transaction() as tx:
                        retry_at = epoch_ms(self._clock.now()) + RETRY_MS
                        await tx.schedule(job.kind, job.key, retry_at, job.payload)
                    continue
            async with self._store.transaction() as tx:
                await tx.finish_job(job)
        return len(jobs)

    async def run_all_due(self) -> int:
        """Run due jobs until none is left due now (a job may schedule another for now)."""
        total = 0
        while ran := await self.run_due():
            total += ran
        return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not await self.run_due():
                await idle(self._clock, self._next_job_ms, self._wake, stop)

    async def _next_job_ms(self) -> int | None:
        async with self._store.transaction() as tx:
            due = await tx.next_job_ms()
        soon = epoch_ms(self._clock.now()) + LOOK_AGAIN_MS
        return soon if due is None else min(due, soon)
