"""The shop API's gate: the shop's key (Authorization: Bearer <key>) and a per-client rate."""

from __future__ import annotations

import hmac

from aiohttp import web

from handlers.web.keys import API_KEY, LIMIT


def shop_api_refusal(request: web.Request) -> web.Response | None:
    retry = request.app[LIMIT].retry_after(request.remote or "unknown")
    if retry is not None:
        return web.json_response(
            {"error": "too many requests"}, status=429, headers={"Retry-After": str(retry)}
        )
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), request.app[API_KEY].encode()):
        return web.json_response({"error": "a valid API key is required"}, status=401)
    return None
