"""The coupon API for shops that check codes against us: look one up, or redeem it.

Both need the shop's API key (Authorization: Bearer <key>) and are rate-limited per client.
"""

from __future__ import annotations

from aiohttp import web

from funnel.coupons import coupon_state, redeem
from funnel.events import epoch_ms, from_epoch_ms
from handlers.web.keys import CLOCK, STORE
from handlers.web.shop_api import shop_api_refusal


async def get_coupon(request: web.Request) -> web.Response:
    refused = shop_api_refusal(request)
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
    refused = shop_api_refusal(request)
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
