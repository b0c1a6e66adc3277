"""The demo's abandoned cart: John leaves tea in his cart, the bot reminds him with the real
deadline, he follows the tracked link and orders, and the owner sees the recovery in /nudges.

The hour passes on the shop's clock (bot.demo_time), and the demo says how long it took,
quiet hours included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any, TextIO

from bot.demo_text import act, show
from bot.demo_time import ShopSite, ShopTime, hours
from bot.sandbox.driver import SandboxUser
from funnel.clock import ManualClock
from funnel.definition import FunnelDefinition
from funnel.linking import token_of
from funnel.store.base import FunnelStore

CART_LIMIT = timedelta(days=2)


async def play_cart(
    store: FunnelStore, site: ShopSite, time: ShopTime, john: SandboxUser, owner: SandboxUser,
    definition: FunnelDefinition, out: TextIO,
) -> None:  # fmt: skip
    clock = site.clock
    async with store.transaction() as tx:
        customer = await tx.customer_by_telegram(john.profile.id)
        if customer is None:
            raise LookupError("John starts the bot earlier in the demo")
        token = await token_of(tx, customer.id, clock.now())
    out.write("\n── John fills a cart on the shop's site from the bot's offer link (it carries "
              "his tg_link) and leaves it (generic API: cart_updated)\n")  # fmt: skip
    cart = {"token": "demo-cart-1", "checkout_url": "https://shop.samovar.example/checkout/1",
            "amount": "3280.00", "currency": "RUB",
            "items": [{"name": "Da Hong Pao, 100 g", "quantity": 2, "price": "1100.00"},
                      {"name": "Gaiwan, 120 ml", "quantity": 1, "price": "1080.00"}]}  # fmt: skip
    await _send(site, out, clock, {"type": "cart_updated", "customer": {"link_token": token},
                                   "cart": cart})  # fmt: skip
    before = len(john.inbox)
    waited = await time.until_message(john, CART_LIMIT)
    held = " (quiet hours held it until the morning)" if waited > definition.carts.idle else ""
    out.write(f"\n── The cart counts as abandoned after an hour; the reminder goes out "
              f"{hours(waited).removesuffix(' later')} after John left{held}\n")  # fmt: skip
    for message in john.inbox[before:]:
        show(out, message)
    url = john.inbox[-1].buttons()[0]["url"]
    async with site.http.get(url, allow_redirects=False) as response:
        target = response.headers.get("Location", "")
    out.write(f"\n── John taps the button: GET {url.removeprefix(site.base)}  →  "
              f"{response.status} {target}\n")  # fmt: skip
    order = {"id": "demo-order-1", "number": "5002", "cart_token": "demo-cart-1",
             "amount": "3280.00", "currency": "RUB", "items": cart["items"]}  # fmt: skip
    out.write("\n── John completes the checkout (generic API: order_created)\n")
    await _send(site, out, clock, {"type": "order_created", "customer": {"link_token": token},
                                   "order": order})  # fmt: skip
    await time.settle()
    await act(out, "The owner checks the reminders", owner, "/nudges", owner.send("/nudges"))


async def _send(site: ShopSite, out: TextIO, clock: ManualClock, event: dict[str, Any]) -> None:
    body = json.dumps(
        {"id": f"demo-{event['type']}", "occurred_at": clock.now().isoformat(), **event}
    ).encode()
    stamp = int(clock.now().timestamp())
    digest = hmac.new(site.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {"Content-Type": "application/json",
               "X-Funnel-Signature": f"t={stamp},v1={digest.hexdigest()}"}  # fmt: skip
    async with site.http.post(f"{site.base}/webhooks/generic", data=body,
                              headers=headers) as response:  # fmt: skip
        answer = await response.text()
    out.write(f"   {'Shop':>11} ▸ POST /webhooks/generic  →  {response.status} {answer}\n")
    await site.worker.drain()
