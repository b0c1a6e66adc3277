"""The demo's shop: a WooCommerce order posted, signed, to the real web server on loopback and
tied to John when he opens the thank-you page's link; its CDEK parcel's journey
(bot.demo_parcel); a forged delivery refused and the owner's /webhooks; then John's abandoned
cart (bot.demo_cart). The shop's side runs on a clock the demo moves forward (bot.demo_time)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot
from aiohttp import web

from bot.app import create_web_app
from bot.demo_cart import play_cart
from bot.demo_parcel import play_parcel
from bot.demo_text import act
from bot.demo_time import ShopSite, ShopTime, post_webhook
from bot.inbox_worker import InboxWorker
from bot.sandbox.driver import SandboxUser
from funnel.clock import Clock, ManualClock
from funnel.definition import FunnelDefinition
from funnel.store.base import FunnelStore
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks

SHOP_PLATFORMS = ("woocommerce", "cdek", "generic")


def _order(token: str, at: datetime) -> dict[str, object]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "id": 5001, "number": "5001", "status": "processing", "currency": "RUB",
        "total": "2490.00", "payment_method": "cod", "payment_method_title": "Cash on delivery",
        "date_created_gmt": stamp, "date_modified_gmt": stamp, "date_paid_gmt": None,
        "billing": {"phone": "+1 (415) 555-0199", "country": "US"},
        "line_items": [{"name": "Da Hong Pao, 100 g", "quantity": 2, "price": 1100}],
        "shipping_lines": [{"method_title": "CDEK pickup point", "meta_data": [
            {"key": "_official_cdek_office_code", "value": "MSK42"}]}],
        "meta_data": [{"key": "tg_link", "value": token}],
    }  # fmt: skip


async def play_shop(
    store: FunnelStore, clock: Clock, bot: Bot, definition: FunnelDefinition, zone: ZoneInfo,
    john: SandboxUser, owner: SandboxUser, out: TextIO,
) -> None:  # fmt: skip
    woo_secret, cdek_token, generic_secret, api_key = (secrets.token_urlsafe(24) for _ in range(4))
    # The shop's side runs on a clock the demo can move forward, for the abandoned cart's hour.
    shop_clock = ManualClock(clock.now())
    worker = InboxWorker(store, shop_clock, parsers(), region="RU")
    webhooks = Webhooks(
        {"woocommerce": (woo_secret,), "cdek": (cdek_token,), "generic": (generic_secret,)},
        worker.wake,
    )
    app = create_web_app(store=store, clock=shop_clock, api_key=api_key, webhooks=webhooks,
                         bot_username=john.sandbox.bot_username,
                         definition=definition)  # fmt: skip
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = site.name  # http://127.0.0.1:<port>
    try:
        async with aiohttp.ClientSession() as http:
            issued = await http.post(f"{base}/api/link-tokens",
                                     headers={"Authorization": f"Bearer {api_key}"})  # fmt: skip
            token = (await issued.json())["token"]
            out.write("\n── John orders tea on the shop's site; the shop asked the bot for a link "
                      "token (POST /api/link-tokens) and keeps it with the order\n")  # fmt: skip
            body = json.dumps(_order(token, clock.now())).encode()
            signature = base64.b64encode(
                hmac.new(woo_secret.encode(), body, hashlib.sha256).digest()
            ).decode()
            headers = {"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created",
                       "X-WC-Webhook-Delivery-ID": "demo-1",
                       "X-WC-Webhook-Signature": signature}  # fmt: skip
            woo_url = f"{base}/webhooks/woocommerce"
            await post_webhook(http, out, woo_url, body, "WooCommerce", headers)
            await worker.drain()
            title = "John taps “Get order news in Telegram” on the thank-you page"
            await act(out, title, john, f"/start {token}", john.start(token))
            shop = ShopSite(http, base, generic_secret, worker, shop_clock)
            time = ShopTime(store, bot, shop, definition, zone, (owner.profile.id,))
            await play_parcel(shop, f"{base}/webhooks/cdek/{cdek_token}", time, john, owner, out)
            out.write("\n── Someone posts a forged order\n")
            forged = {**headers, "X-WC-Webhook-Signature": "Zm9yZ2Vk"}
            await post_webhook(http, out, woo_url, body, "Forger", forged)
            await worker.drain()
            await act(
                out, "The owner checks the webhooks", owner, "/webhooks", owner.send("/webhooks")
            )
            await play_cart(store, shop, time, john, owner, definition, out)
    finally:
        await runner.cleanup()
