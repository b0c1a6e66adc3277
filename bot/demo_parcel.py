"""The demo's parcel journey: CDEK takes John's cash-on-delivery order in, it reaches a pickup
point, a reminder comes before the storage deadline, he collects and pays; each move is told
once, in his language, and the owner reads /delivery."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TextIO

from bot.demo_text import act, show
from bot.demo_time import ShopSite, ShopTime, hours, post_webhook
from bot.sandbox.driver import SandboxUser

PARCEL_UUID = "72753031-0000-4000-8000-00000000d3e0"
WAIT_LIMIT = timedelta(days=8)


def cdek_status(at: datetime, code: str, city: str) -> bytes:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    return json.dumps({
        "type": "ORDER_STATUS", "date_time": stamp, "uuid": PARCEL_UUID,
        "attributes": {"is_return": False, "cdek_number": "1582000001", "number": "5001",
                       "code": code, "status_date_time": stamp, "city_name": city},
    }).encode()  # fmt: skip


async def play_parcel(
    site: ShopSite, cdek_url: str, time: ShopTime, john: SandboxUser, owner: SandboxUser,
    out: TextIO,
) -> None:  # fmt: skip
    moves = [
        ("CDEK takes the parcel in", "RECEIVED_AT_SHIPMENT_WAREHOUSE", "Москва"),
        ("Two days later it reaches the pickup point", "ACCEPTED_AT_PICK_UP_POINT", "Москва"),
    ]
    for number, (title, code, city) in enumerate(moves):
        if number:
            await time.advance(timedelta(days=2))
        out.write(f"\n── {title} (ORDER_STATUS {code} to the secret URL)\n")
        await _post(site, out, cdek_url, cdek_status(time.clock.now(), code, city))
        await _told(time, john, out)
    await _told(time, john, out, "and before the storage deadline, a reminder")
    out.write("\n── John collects the parcel and pays (ORDER_STATUS DELIVERED)\n")
    await _post(site, out, cdek_url, cdek_status(time.clock.now(), "DELIVERED", "Москва"))
    await _told(time, john, out)
    await act(out, "The owner checks the parcels", owner, "/delivery", owner.send("/delivery"))


async def _post(site: ShopSite, out: TextIO, url: str, body: bytes) -> None:
    await post_webhook(site.http, out, url, body, "CDEK")
    await site.worker.drain()


async def _told(time: ShopTime, john: SandboxUser, out: TextIO, what: str = "") -> None:
    before = len(john.inbox)
    waited = await time.until_message(john, WAIT_LIMIT)
    out.write(f"   {'':>11}   {what or 'the bot tells John'}, {hours(waited)}:\n")
    for message in john.inbox[before:]:
        show(out, message)
