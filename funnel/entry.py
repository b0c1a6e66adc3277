"""A customer opening the bot: first touch or re-entry, each with its own source."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from funnel.customers import Customer, NewCustomer, pick_language
from funnel.events import BOT_REENTERED, BOT_STARTED, Event
from funnel.store.base import FunnelStore

# Kept with the event so that a malformed link can be traced, bounded so it cannot bloat the log.
_PAYLOAD_KEPT = 128


@dataclass(frozen=True, slots=True)
class Visitor:
    telegram_user_id: int
    language_code: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    customer: Customer
    source: str
    first_touch: bool
    language: str


async def enter(
    store: FunnelStore,
    visitor: Visitor,
    payload: str | None,
    source: str,
    *,
    occurred_at: datetime,
    key: str,
    languages: tuple[str, ...],
    default_language: str,
) -> Entry:
    """Record a /start: bot_started the first time, bot_reentered after; first touch kept forever.

    The source is what the payload names (see funnel.magnets.read_payload); the key makes a
    redelivered update a no-op.
    """
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(visitor.telegram_user_id)
        if customer is None:
            customer = await tx.add_customer(
                NewCustomer(
                    first_seen_at=occurred_at,
                    telegram_user_id=visitor.telegram_user_id,
                    language=pick_language(visitor.language_code, languages, default_language),
                    first_source=source,
                )
            )
        if customer.blocked or customer.opted_out:
            await tx.welcome_back(customer.id)
        if customer.language is None:
            # Known before /start (an admin, a /timezone, a shop's order): now we can tell.
            language = pick_language(visitor.language_code, languages, default_language)
            await tx.set_language(customer.id, language)
            customer = replace(customer, language=language)
        first_touch = not await tx.has_event(customer.id, BOT_STARTED)
        properties = {"payload": payload[:_PAYLOAD_KEPT]} if payload else {}
        await tx.record(
            Event(
                customer_id=customer.id,
                type=BOT_STARTED if first_touch else BOT_REENTERED,
                occurred_at=occurred_at,
                key=key,
                source=source,
                platform="telegram",
                properties=properties,
            )
        )
    language = customer.language or pick_language(
        visitor.language_code, languages, default_language
    )
    return Entry(customer=customer, source=source, first_touch=first_touch, language=language)
