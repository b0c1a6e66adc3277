"""The coupon API for shops that check codes against us: look one up, or redeem it.

Both need the shop's API key (Authorization: Bearer <key>) and are rate-limited per client.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from funnel.coupons import coupon_state, redeem
from funnel.events import epoch_ms, from_epoch_ms
from handlers.web.keys import API_KEY, CLOCK, LIMIT, STORE


def _refusal(request: web.Request) -> web.Response | None:
    retry = request.app[LIMIT].retry_after(request.remote or "unknown")
    if retry is not None:
        return web.json_response(
            {"error": "too many requests"}, status=429, headers={"Retry-After": str(retry)}
        )
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), request.app[API_KEY].encode()):
        return web.json_response({"error": "a valid API key is required"}, status=401)
    return None


async def get_coupon(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    code = request.match_info["code"]
    async with request.app[STORE].transaction() as tx:
        coupon = await tx.coupon(code)
    if coupon is None:
        return web.json_response({"error": "unknown coupon", "code": code}, status=404)
    state = coupon_state(coupon, epoch_ms(request.app[CLOCK].now()))
    expires = None if coupon.expires_ms is None else from_epoch_ms(coupon.expires_ms).isoformat()
    return web.json_response(
        {
            "code": code,
            "valid": state == "issued",
            "status": state,
            "expires_at": expires,
            "magnet": coupon.magnet,
        }
    )


async def redeem_coupon(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    order: str | None = None
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "the body must be JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("order", ""), str | int):
            return web.json_response({"error": "order must be text"}, status=400)
        order = None if body.get("order") is None else str(body["order"])[:100]
    code = request.match_info["code"]
    outcome = await redeem(request.app[STORE], code, order, request.app[CLOCK].now())
    status = {"redeemed": 200, "unknown": 404}.get(outcome, 409)
    return web.json_response({"code": code, "redeemed": outcome == "redeemed",
                              "status": outcome}, status=status)  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/coupons/{code}", get_coupon)
    app.router.add_post("/api/coupons/{code}/redeem", redeem_coupon)
