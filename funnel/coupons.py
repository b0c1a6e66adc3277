"""Coupons a magnet gives: from a pool of the shop's own codes, or generated here."""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from funnel.events import Event, epoch_ms, from_epoch_ms
from funnel.magnets import Magnet
from funnel.postbox import Postbox
from funnel.store.base import Coupon, FunnelStore, IssuedCoupon

LOW_POOL = 10
# Unambiguous to read aloud or type: no 0/O, 1/I/L.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GENERATED = "generated"


def generated_code(prefix: str) -> str:
    """The prefix and ten unguessable characters (about 50 bits)."""
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


async def coupon_for(
    store: FunnelStore,
    postbox: Postbox,
    admin_ids: Iterable[int],
    customer_id: int,
    magnet: Magnet,
    at: datetime,
    cart: tuple[int, datetime] | None = None,
) -> Coupon | None:
    """The customer's coupon for the magnet: the one they already have, a code taken from the
    pool, or a new generated one. None when the pool is empty (the admins are told).

    For a cart's reminder (cart: its id and deadline) the code is that cart's own and expires
    exactly at the deadline, moving with it."""
    cart_id = None if cart is None else cart[0]
    until = at + timedelta(days=magnet.coupon_days) if cart is None else cart[1]
    expires = epoch_ms(until)
    pool = magnet.coupon_pool
    async with store.transaction() as tx:
        mine = await tx.coupon_of(customer_id, magnet.id, cart_id)
        if mine is not None:
            if cart is None or mine.expires_ms == expires:
                return mine
            await tx.set_coupon_expiry(mine.code, expires)
            return replace(mine, expires_ms=expires)
        if pool is None:
            code = generated_code(magnet.coupon_prefix)
            return await tx.add_issued_coupon(
                code, GENERATED, customer_id, magnet.id, epoch_ms(at), expires, cart_id
            )
        coupon = await tx.take_coupon(pool, customer_id, magnet.id, epoch_ms(at), expires, cart_id)
        left = await tx.free_coupons(pool)
    if coupon is None or left == 0:
        await postbox.alert(
            admin_ids,
            f"coupons:{pool}:empty",
            f"The coupon pool {pool} is empty: load more codes.",
        )
    elif left == LOW_POOL:
        await postbox.alert(
            admin_ids,
            f"coupons:{pool}:low",
            f"The coupon pool {pool} is running low: {left} left.",
        )
    return coupon


COUPON_REDEEMED = "coupon_redeemed"


def coupon_state(coupon: IssuedCoupon, now_ms: int) -> str:
    """unused (in a pool, nobody's yet), issued, redeemed or expired."""
    if coupon.redeemed_ms is not None:
        return "redeemed"
    if coupon.expires_ms is not None and now_ms > coupon.expires_ms:
        return "expired"
    return "issued" if coupon.customer_id is not None else "unused"


async def redeem(store: FunnelStore, code: str, order: str | None, at: datetime) -> str:
    """Use the coupon for an order: 'redeemed', or why not ('unknown', 'expired', 'already
    redeemed', 'not issued'). A redemption is a funnel event linking the order to the magnet."""
    now = epoch_ms(at)
    async with store.transaction() as tx:
        coupon = await tx.coupon(code)
        if coupon is None:
            return "unknown"
        state = coupon_state(coupon, now)
        if state != "issued" or coupon.customer_id is None:
            return {"redeemed": "already redeemed", "unused": "not issued"}.get(state, state)
        if not await tx.redeem_coupon(code, now):
            return "already redeemed"
        properties = {"code": code, "magnet": coupon.magnet, "order": order}
        await tx.record(
            Event(coupon.customer_id, COUPON_REDEEMED, at, key=f"coupon:{code}:redeemed",
                  properties={k: v for k, v in properties.items() if v is not None}),
        )  # fmt: skip
    return "redeemed"


def coupon_text(template: str, coupon: Coupon, zone: ZoneInfo) -> str:
    """A text naming {code} and {expires}, the expiry in the customer's zone."""
    expires = (
        from_epoch_ms(coupon.expires_ms).astimezone(zone).strftime("%d.%m.%Y %H:%M")
        if coupon.expires_ms is not None
        else ""
    )
    return template.format(code=f"<code>{html.escape(coupon.code)}</code>", expires=expires)
