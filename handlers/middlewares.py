"""Per-update context: every log line while an update is handled carries its ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User


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
