"""Typed keys under which the composition root hands dependencies to web handlers."""

from __future__ import annotations

from aiohttp import web

from funnel.store.base import FunnelStore

STORE = web.AppKey("store", FunnelStore)
