"""Telegram's refusals on demand: scripted errors, and its rate limits applied for real."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from funnel.clock import Clock


class ApiError(Exception):
    """A Bot API error reply: HTTP status, description and, for 429, retry_after."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def flood(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def blocked() -> ApiError:
    return ApiError(403, "Forbidden: bot was blocked by the user")


def chat_not_found() -> ApiError:
    return ApiError(400, "Bad Request: chat not found")


def server_error() -> ApiError:
    return ApiError(500, "Internal Server Error")


@dataclass(slots=True)
class Fault:
    """Answer the next `times` matching calls with `error` instead of doing them."""

    error: ApiError
    method: str | None = None
    chat_id: int | str | None = None
    times: int = 1

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        return (self.method is None or self.method == method) and (
            self.chat_id is None or self.chat_id == chat_id
        )


@dataclass(slots=True)
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take(self, method: str, chat_id: int | str | None) -> ApiError | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return ApiError(
                    fault.error.error_code, fault.error.description, fault.error.retry_after
                )
        return None


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's published soft limits: about 1 message a second per chat, 30 overall."""

    per_chat_per_second: int = 1
    global_per_second: int = 30


class RateLimiter:
    """Sliding one-second windows, per chat and overall, read from the sandbox's clock."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self._limits = limits
        self._clock = clock
        self._all: deque[datetime] = deque()
        self._per_chat: dict[int | str, deque[datetime]] = {}

    def admit(self, chat_id: int | str) -> None:
        """Count a message to chat_id, or raise a 429 with the seconds until it would pass."""
        now = self._clock.now()
        chat = self._per_chat.setdefault(chat_id, deque())
        for window in (self._all, chat):
            while window and (now - window[0]).total_seconds() >= 1:
                window.popleft()
        for window, limit in (
            (chat, self._limits.per_chat_per_second),
            (self._all, self._limits.global_per_second),
        ):
            if len(window) >= limit:
                wait = 1 - (now - window[0]).total_seconds()
                raise flood(max(1, math.ceil(wait)))
        chat.append(now)
        self._all.append(now)
