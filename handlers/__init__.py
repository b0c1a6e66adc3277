"""The edges: aiogram routers for customers and admins, aiohttp handlers for the web."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Router

from handlers import errors
from handlers.admin import ADMIN_COMMANDS, create_admin_router, guard
from handlers.customer import fallback, gates, settings, start, stop


def get_routers(admin_ids: Iterable[int]) -> list[Router]:
    """Fresh routers, in the order they must see updates."""
    return [
        errors.create_router(),
        start.create_router(),
        stop.create_router(),
        # Admin commands for admins; the same commands from anyone else are refused next.
        create_admin_router(admin_ids),
        # /help is everyone's: admins get theirs above, customers theirs in settings.
        guard.create_router([name for name, _ in ADMIN_COMMANDS if name != "help"]),
        settings.create_router(),
        # Contacts and e-mails answer a gate; text that answers none falls through.
        gates.create_router(),
        # Last: it answers every message no other router claimed.
        fallback.create_router(),
    ]
