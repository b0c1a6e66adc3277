"""The injected clock: production reads the system time and sleeps for real; tests move time by
hand, and the loops' waits follow it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let this much time pass."""
        ...

    async def wait(self, seconds: float | None, wake: asyncio.Event) -> None:
        """Return after `seconds` (never, with None), or as soon as `wake` is set."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))

    async def wait(self, seconds: float | None, wake: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(wake.wait(), None if seconds is None else max(seconds, 0))
        except TimeoutError:
            return


class ManualClock:
    """A clock that stands still until told to move. Sleeping moves it at once, so code that
    waits runs in virtual time without waiting for real time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    async def sleep(self, seconds: float) -> None:
        self._now += timedelta(seconds=max(seconds, 0))
        await asyncio.sleep(0)

    async def wait(self, seconds: float | None, wake: asyncio.Event) -> None:
        if wake.is_set():
            return
        if seconds is None:
            await wake.wait()
            return
        await self.sleep(seconds)
