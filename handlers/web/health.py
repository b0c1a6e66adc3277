"""GET /healthz: the process is up and its database answers."""

from __future__ import annotations

from aiohttp import web

from funnel.store.base import StoreUnavailable
from handlers.web.keys import STORE


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except StoreUnavailable as error:
        return web.json_response({"status": "unavailable", "error": str(error)}, status=503)
    return web.json_response({"status": "ok"})
