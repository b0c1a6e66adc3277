"""The edges: aiogram routers for customers and admins, aiohttp handlers for the web."""

from __future__ import annotations

from aiogram import Router

from handlers import errors
from handlers.customer import fallback, start


def get_routers() -> list[Router]:
    """Fresh routers, in the order they must see updates."""
    return [
        errors.create_router(),
        start.create_router(),
        # Last: it answers every message no other router claimed.
        fallback.create_router(),
    ]
