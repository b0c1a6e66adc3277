"""Group commit for acknowledgements: deliveries arriving together are kept in one atomic
statement, so the inbox is written once per burst instead of once per request.

Each request still answers only after its own delivery is committed; what it saves is the
per-transaction cost, which otherwise caps the acknowledgements per second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import suppress

from funnel.inbox import Incoming
from funnel.store.base import FunnelStore

BATCH = 200
# Deliveries closer together than this count as a burst, during which processing gives way.
BURST_GAP_S = 0.02


class Intake:
    def __init__(self, store: FunnelStore) -> None:
        self._store = store
        self._queue: asyncio.Queue[tuple[Incoming, asyncio.Future[int | None]]] = asyncio.Queue()
        self._last_arrival = float("-inf")

    def busy(self) -> bool:
        """Whether deliveries are arriving back to back right now."""
        return time.monotonic() - self._last_arrival < BURST_GAP_S

    async def keep(self, incoming: Incoming) -> int | None:
        """Commit the delivery; its inbox id, or None if its delivery id was already kept."""
        self._last_arrival = time.monotonic()
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        await self._queue.put((incoming, done))
        return await done

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                ids = await self._store.receive_deliveries([incoming for incoming, _ in batch])
            except Exception as error:  # noqa: BLE001 - every waiting request gets its answer
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, done), inbox_id in zip(batch, ids, strict=True):
                if not done.done():
                    done.set_result(inbox_id)

    async def running(self, _app: object) -> AsyncIterator[None]:
        """For the application's cleanup context: run while the server runs."""
        task = asyncio.create_task(self.run())
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
