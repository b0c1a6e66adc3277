"""How the loops wait: until their next row falls due, they are woken, or they are stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from funnel.clock import Clock
from funnel.events import epoch_ms


async def idle(
    clock: Clock,
    next_due_ms: Callable[[], Awaitable[int | None]],
    wake: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    # Cleared before the store is asked, so that a wake during the question is not lost.
    wake.clear()
    due = await next_due_ms()
    seconds = None if due is None else max(due - epoch_ms(clock.now()), 0) / 1000
    stopping = asyncio.ensure_future(stop.wait())
    waking = asyncio.ensure_future(clock.wait(seconds, wake))
    try:
        await asyncio.wait({stopping, waking}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        waking.cancel()
