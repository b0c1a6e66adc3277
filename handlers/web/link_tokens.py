"""POST /api/link-tokens: a token for the shop to put on its cart or thank-you page.

The shop stores the token with the order (a note attribute or meta field named tg_link) and
shows the customer the start URL; opening it ties the order to the customer's chat.
"""

from __future__ import annotations

from aiohttp import web

from funnel.linking import issue_for_shop
from handlers.web.keys import BOT_USERNAME, CLOCK, STORE
from handlers.web.shop_api import shop_api_refusal


async def create_link_token(request: web.Request) -> web.Response:
    refused = shop_api_refusal(request)
    if refused is not None:
        return refused
    token = await issue_for_shop(request.app[STORE], request.app[CLOCK].now())
    username = request.app[BOT_USERNAME]
    start_url = f"https://t.me/{username}?start={token}" if username else None
    return web.json_response({"token": token, "start_url": start_url}, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/link-tokens", create_link_token)
