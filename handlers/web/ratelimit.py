"""A per-client sliding-window limit for the shop-facing API, on the injected clock."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from funnel.clock import Clock


class RateLimit:
    def __init__(self, clock: Clock, requests: int = 60, seconds: float = 60.0) -> None:
        self._clock = clock
        self._requests = requests
        self._window = timedelta(seconds=seconds)
        self._seen: dict[str, deque[datetime]] = {}

    def retry_after(self, client: str) -> int | None:
        """Count a request; None when it may go ahead, else the seconds to wait."""
        now = self._clock.now()
        if len(self._seen) > 10_000:
            # Forget clients quiet for a whole window, so memory follows the active ones.
            self._seen = {c: t for c, t in self._seen.items() if now - t[-1] < self._window}
        recent = self._seen.setdefault(client, deque())
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        if len(recent) >= self._requests:
            return max(1, math.ceil((recent[0] + self._window - now).total_seconds()))
        recent.append(now)
        return None
