"""The demo's shop: a WooCommerce order and a CDEK parcel posted, signed, to the real web server
on loopback, tied to John when he opens the thank-you page's link, and a forged delivery
refused; the owner looks at /webhooks. Then John's abandoned cart (bot.demo_cart)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot
from aiohttp import web

from bot.app import create_web_app
from bot.demo_cart import ShopSite, play_cart
from bot.demo_text import act
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


def _parcel(at: datetime) -> dict[str, object]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {
        "type": "ORDER_STATUS", "date_time": stamp,
        "uuid": "72753031-0000-4000-8000-00000000d3e0",
        "attributes": {"is_return": False, "cdek_number": "1582000001", "number": "5001",
                       "code": "RECEIVED_AT_SHIPMENT_WAREHOUSE", "status_code": "3",
                       "status_date_time": stamp, "city_name": "Москва"},
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
            await _post(http, out, f"{base}/webhooks/woocommerce", body, headers, "WooCommerce")
            await worker.drain()
            title = "John taps “Get order news in Telegram” on the thank-you page"
            await act(out, title, john, f"/start {token}", john.start(token))
            parcel = json.dumps(_parcel(clock.now() + timedelta(hours=3))).encode()
            out.write("\n── CDEK takes the parcel in (ORDER_STATUS to the secret URL)\n")
            await _post(http, out, f"{base}/webhooks/cdek/{cdek_token}", parcel,
                        {"Content-Type": "application/json"}, "CDEK")  # fmt: skip
            out.write("\n── Someone posts a forged order\n")
            forged = {**headers, "X-WC-Webhook-Signature": "Zm9yZ2Vk"}
            await _post(http, out, f"{base}/webhooks/woocommerce", body, forged, "Forger")
            await worker.drain()
            await act(
                out, "The owner checks the webhooks", owner, "/webhooks", owner.send("/webhooks")
            )
            shop = ShopSite(http, base, generic_secret, worker, shop_clock)
            await play_cart(store, bot, shop, john, owner, definition, zone, out)
    finally:
        await runner.cleanup()


async def _post(
    http: aiohttp.ClientSession,
    out: TextIO,
    url: str,
    body: bytes,
    headers: dict[str, str],
    who: str,
) -> None:
    async with http.post(url, data=body, headers=headers) as response:
        answer = await response.text()
    path = url.split("/webhooks/")[1].split("/")[0]
    out.write(f"   {who:>11} ▸ POST /webhooks/{path}  →  {response.status} {answer}\n")
