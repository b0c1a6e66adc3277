"""GET /r/{token}: the tracked link behind a cart reminder's button.

A known token counts the click and redirects (302) to the cart's checkout; anything else gets
a small 404 page in the visitor's language, since a person, not a program, opened it.
"""

from __future__ import annotations

import html

from aiohttp import web

from funnel.abandonment import click
from handlers.web.keys import CLOCK, DEFINITION, STORE

REDIRECT_PATH = "/r/{token}"
_MAX_TOKEN = 64


async def follow_reminder(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    target = None
    if len(token) <= _MAX_TOKEN:
        async with request.app[STORE].transaction() as tx:
            target = await click(tx, token, request.app[CLOCK].now())
    if target is None:
        return _not_found(request)
    # Not cached, so that every click reaches us and each one is counted.
    raise web.HTTPFound(target, headers={"Cache-Control": "no-store"})


def _not_found(request: web.Request) -> web.Response:
    definition = request.app[DEFINITION]
    wanted = request.headers.get("Accept-Language", "").split(",")[0].strip()
    language = definition.language_for(wanted or None)
    text = html.escape(definition.text("nudge_link_unknown", language))
    page = (
        f'<!doctype html><html lang="{language}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>404</title>'
        f"<p>{text}</p></html>"
    )
    return web.Response(status=404, text=page, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get(REDIRECT_PATH, follow_reminder)
