"""Admin commands: the funnel in the chat, for the ids in ADMIN_IDS only."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import F, Router

from handlers.admin import delivery, export, health, help, links, nudges, reports, webhooks

# (command, description) as the admins' command menu shows them.
ADMIN_COMMANDS = [
    ("report", "Funnel: conversion, drop-off, time per stage"),
    ("compare", "This period against the previous one"),
    ("chart", "The funnel as a picture"),
    ("export", "CSV: customers and the report"),
    ("digest", "Yesterday's funnel and its biggest drop"),
    ("links", "Deep links for every magnet and source"),
    ("health", "Uptime, database, last events"),
    ("webhooks", "Shop and carrier deliveries, failures, refusals"),
    ("nudges", "Abandoned carts: reminded, clicked, recovered, lift"),
    ("delivery", "Parcels: statuses, buy-out, waiting at pickup points"),
    ("help", "All admin commands"),
]


def create_admin_router(admin_ids: Iterable[int]) -> Router:
    """Every admin command behind one filter on the whole router."""
    router = Router(name=__name__)
    allowed = frozenset(admin_ids)
    router.message.filter(F.from_user.id.in_(allowed))
    router.include_routers(
        reports.create_router(),
        export.create_router(),
        links.create_router(),
        health.create_router(),
        webhooks.create_router(),
        nudges.create_router(),
        delivery.create_router(),
        help.create_router(),
    )
    return router
