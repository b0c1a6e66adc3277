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
    """A clock that stands still until told to move.

    sleep() moves it at once, so pacing and back-off run in virtual time. wait() - what the
    loops do while idle - returns when the test moves the clock past its deadline, or when woken.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._moved: list[asyncio.Event] = []
        self._someone_waits: asyncio.Event | None = None

    def now(self) -> datetime:
        return self._now

    async def until_waiting(self) -> None:
        """Return once some loop is waiting on this clock: a test's cue to move it."""
        while not self._moved:
            self._someone_waits = asyncio.Event()
            await self._someone_waits.wait()

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        for moved in self._moved:
            moved.set()

    async def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=max(seconds, 0)))
        await asyncio.sleep(0)

    async def wait(self, seconds: float | None, wake: asyncio.Event) -> None:
        deadline = None if seconds is None else self._now + timedelta(seconds=seconds)
        while not wake.is_set() and (deadline is None or self._now < deadline):
            moved = asyncio.Event()
            self._moved.append(moved)
            if self._someone_waits is not None:
                self._someone_waits.set()
            try:
                waits = {asyncio.ensure_future(moved.wait()), asyncio.ensure_future(wake.wait())}
                _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
            finally:
                self._moved.remove(moved)
