"""Typed keys under which the composition root hands dependencies to web handlers."""

from __future__ import annotations

from aiohttp import web

from funnel.clock import Clock
from funnel.definition import FunnelDefinition
from funnel.store.base import FunnelStore
from handlers.web.ratelimit import RateLimit

STORE = web.AppKey("store", FunnelStore)
CLOCK = web.AppKey("clock", Clock)
API_KEY = web.AppKey("api_key", str)
LIMIT = web.AppKey("limit", RateLimit)
BOT_USERNAME = web.AppKey("bot_username", str)
DEFINITION = web.AppKey("definition", FunnelDefinition)
