"""Per-update context (every log line carries the update's ids) and flood control."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update, User

from funnel.clock import Clock
from funnel.definition import FunnelDefinition

log = structlog.get_logger(__name__)
SWEEP_EVERY = 1_000


class LogContextMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        ids: dict[str, Any] = {"user_id": user.id if isinstance(user, User) else None}
        if isinstance(event, Update):
            ids["update_id"] = event.update_id
        with structlog.contextvars.bound_contextvars(**ids):
            return await handler(event, data)


class FloodMiddleware(BaseMiddleware):
    """Dozens of messages a second from one user: beyond `limit` in `seconds`, messages are
    dropped, and the user is told once until they slow down."""

    def __init__(self, clock: Clock, limit: int = 8, seconds: float = 2.0) -> None:
        self._clock = clock
        self._limit = limit
        self._window = timedelta(seconds=seconds)
        self._recent: dict[int, deque[datetime]] = {}
        self._told: set[int] = set()
        self._seen = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if not isinstance(user, User) or not isinstance(event, Message):
            return await handler(event, data)
        now = self._clock.now()
        self._seen += 1
        if self._seen % SWEEP_EVERY == 0:
            # Forget users quiet for a whole window, so memory follows the active ones.
            self._recent = {
                uid: times for uid, times in self._recent.items() if now - times[-1] < self._window
            }
        recent = self._recent.setdefault(user.id, deque())
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        if len(recent) < self._limit:
            recent.append(now)
            self._told.discard(user.id)
            return await handler(event, data)
        log.warning("flood throttled", user_id=user.id)
        if user.id not in self._told:
            self._told.add(user.id)
            definition: FunnelDefinition = data["definition"]
            language = definition.language_for(user.language_code)
            await event.answer(definition.text("slow_down", language))
        return None
