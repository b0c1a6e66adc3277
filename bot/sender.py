"""The sender: drains the outbox through aiogram within Telegram's limits, losing nothing.

Delivery is at least once. A row is marked sending, under a lease, before the Bot API call; a
crash leaves it sending, and once the lease runs out it is sent again. Only the messages in
flight at the crash can be duplicated, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.idle import idle
from funnel.clock import Clock
from funnel.events import Event, epoch_ms
from funnel.outbox import Outgoing, Policy, backoff_ms
from funnel.store.base import FunnelStore

log = structlog.get_logger(__name__)

BOT_BLOCKED = "bot_blocked"
MESSAGE_SENT = "message_sent"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for Telegram: HTML text, and perhaps one URL button under it."""

    text: str
    button: tuple[str, str] | None = None

    def markup(self) -> InlineKeyboardMarkup | None:
        if self.button is None:
            return None
        label, url = self.button
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=url)]])


Render = Callable[[Outgoing], Awaitable[Rendered]]


@dataclass(frozen=True, slots=True)
class Pacing:
    """Telegram's limits as the sender keeps them."""

    per_second: float = 30.0
    per_chat_interval_ms: int = 1_000
    max_attempts: int = 5
    lease_ms: int = 60_000
    batch: int = 100


class Sender:
    def __init__(
        self,
        bot: Bot,
        store: FunnelStore,
        clock: Clock,
        policy: Policy,
        render: Render,
        pacing: Pacing | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._bot = bot
        self._store = store
        self._clock = clock
        self._policy = policy
        self._render = render
        self._pacing = pacing or Pacing()
        self._jitter = jitter
        self._wake = asyncio.Event()
        self._next_slot_ms = 0
        self._last_to_chat: dict[int, int] = {}

    def wake(self) -> None:
        """Something new may be due earlier than the sender is sleeping until."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not await self.drain():
                await idle(self._clock, self._next_due_ms, self._wake, stop)

    async def _next_due_ms(self) -> int | None:
        async with self._store.transaction() as tx:
            return await tx.next_due_ms()

    async def drain(self) -> int:
        """Send what is due now, one claimed batch; returns how many rows it handled."""
        now = epoch_ms(self._clock.now())
        async with self._store.transaction() as tx:
            batch = await tx.claim(now, self._pacing.batch, self._pacing.lease_ms, self._policy)
        for message in batch:
            await self._deliver(message)
        return len(batch)

    async def _deliver(self, message: Outgoing) -> None:
        now = epoch_ms(self._clock.now())
        last = self._last_to_chat.get(message.chat_id)
        if last is not None and now - last < self._pacing.per_chat_interval_ms:
            # A burst to one chat waits its turn without holding up other chats.
            async with self._store.transaction() as tx:
                await tx.give_back(message.id, last + self._pacing.per_chat_interval_ms)
            return
        try:
            rendered = await self._render(message)
        except Exception:  # a template that cannot render will never send: fail, don't loop
            log.exception("message could not be rendered", outbox_id=message.id)
            await self._finish_failed(message, "the message could not be rendered")
            return
        while True:
            await self._wait_for_slot()
            try:
                sent = await self._bot.send_message(
                    message.chat_id, rendered.text, reply_markup=rendered.markup()
                )
            except TelegramRetryAfter as error:
                # Telegram asked everyone to wait: the whole sender pauses, then tries again.
                log.warning("flood control", retry_after=error.retry_after)
                await self._clock.sleep(error.retry_after)
                continue
            except TelegramForbiddenError as error:
                await self._blocked(message, error.message)
                return
            except TelegramBadRequest as error:
                await self._finish_failed(message, error.message)
                return
            except (TelegramServerError, TelegramNetworkError) as error:
                await self._retry_later(message, error.message)
                return
            break
        now = epoch_ms(self._clock.now())
        self._last_to_chat[message.chat_id] = now
        async with self._store.transaction() as tx:
            await tx.mark_sent(message.id, now)
            await tx.record(
                self._event(
                    message,
                    MESSAGE_SENT,
                    template=message.template,
                    kind=message.kind,
                    outbox_id=message.id,
                    telegram_message_id=sent.message_id,
                )
            )

    def _event(self, message: Outgoing, event_type: str, **properties: object) -> Event:
        """What happened to an outbox row, once: its key is the row and the outcome."""
        return Event(
            customer_id=message.customer_id,
            type=event_type,
            occurred_at=self._clock.now(),
            key=f"outbox:{message.id}:{event_type}",
            platform="telegram",
            properties=properties,
        )

    async def _wait_for_slot(self) -> None:
        """The global pace: at most per_second sends, evenly spaced."""
        now = epoch_ms(self._clock.now())
        # Whole milliseconds, rounded up: rounding down would run a hair over the limit.
        gap = math.ceil(1000 / self._pacing.per_second)
        if self._next_slot_ms > now:
            await self._clock.sleep((self._next_slot_ms - now) / 1000)
            now = epoch_ms(self._clock.now())
        self._next_slot_ms = max(now, self._next_slot_ms) + gap

    async def _blocked(self, message: Outgoing, description: str) -> None:
        now = epoch_ms(self._clock.now())
        async with self._store.transaction() as tx:
            await tx.mark_failed(message.id, f"blocked: {description}", now)
            cancelled = await tx.block_customer(message.customer_id, now)
            await tx.record(self._event(message, BOT_BLOCKED, description=description))
        log.info("customer blocked the bot", customer_id=message.customer_id, cancelled=cancelled)

    async def _retry_later(self, message: Outgoing, description: str) -> None:
        now = epoch_ms(self._clock.now())
        async with self._store.transaction() as tx:
            if message.attempts >= self._pacing.max_attempts:
                await tx.mark_failed(
                    message.id, f"gave up after {message.attempts} attempts: {description}", now
                )
            else:
                delay = backoff_ms(message.attempts, self._jitter())
                await tx.postpone(message.id, now + delay, f"retrying: {description}")

    async def _finish_failed(self, message: Outgoing, reason: str) -> None:
        async with self._store.transaction() as tx:
            await tx.mark_failed(message.id, reason, epoch_ms(self._clock.now()))
