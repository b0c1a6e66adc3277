"""Turning an outbox row into the text Telegram receives."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date

from bot.sender import Render, Rendered
from funnel.abandonment import NUDGE_TEMPLATE, tagged_checkout
from funnel.clock import Clock, SystemClock
from funnel.coupons import coupon_for, coupon_text
from funnel.customers import local_zone
from funnel.definition import FunnelDefinition
from funnel.digest import DIGEST_TEMPLATE, digest
from funnel.events import from_epoch_ms
from funnel.formatting import item_names, moment, money
from funnel.lead import FOLLOWUP_TEMPLATE
from funnel.linking import token_of, with_link_token
from funnel.magnets import with_utm
from funnel.outbox import Outgoing
from funnel.parcel_text import parcel_text
from funnel.postbox import ALERT_TEMPLATE, Postbox
from funnel.progress import StagePlan
from funnel.relay import PICKUP_TEMPLATE, STATUS_TEMPLATE
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from funnel.templates import render as render_text
from handlers.admin.replies import block
from handlers.web.redirect import REDIRECT_PATH


def renderer(
    store: FunnelStore,
    definition: FunnelDefinition,
    defaults: ReportDefaults,
    clock: Clock | None = None,
    admin_ids: Iterable[int] = (),
    public_url: str | None = None,
) -> Render:
    """Shop templates in the customer's language; the admins' digest and alerts are built here,
    the digest when it is sent, so that it shows the data as it is then. With a public URL,
    cart reminders' buttons go through the tracked link /r/{token}."""
    plan = StagePlan.of(definition)
    time = clock or SystemClock()
    # Alerts about coupon pools are enqueued here; the sender drains them on its next pass.
    postbox = Postbox(store, time)
    admins = tuple(admin_ids)

    async def render(message: Outgoing) -> Rendered:
        language = message.language or definition.default_language
        if message.template == DIGEST_TEMPLATE:
            caption, body = await digest(
                store, plan, defaults, date.fromisoformat(str(message.variables["day"]))
            )
            return Rendered(block(caption, body))
        if message.template == ALERT_TEMPLATE:
            return Rendered(f"⚠️ {html.escape(str(message.variables['text']))}")
        if message.template == FOLLOWUP_TEMPLATE:
            return await followup(message, language)
        if message.template == NUDGE_TEMPLATE:
            return await cart_nudge(message, language)
        if message.template in (STATUS_TEMPLATE, PICKUP_TEMPLATE):
            return await parcel(message, language)
        return Rendered(definition.text(message.template, language, **message.variables))

    async def followup(message: Outgoing, language: str) -> Rendered:
        # Read at send time, so that an edited follow-up goes out as it reads now.
        magnet_id, step = str(message.variables["magnet"]), int(message.variables["step"])
        magnet = definition.magnet(magnet_id)
        if magnet is None or step >= len(magnet.followups):
            raise LookupError(f"the follow-up {step + 1} of {magnet_id} is gone")
        followup = magnet.followups[step]
        text = followup.text.get(language) or followup.text[definition.default_language]
        coupon_magnet = definition.magnet(followup.coupon) if followup.coupon else None
        if coupon_magnet is not None:
            coupon = await coupon_for(
                store, postbox, admins, message.customer_id, coupon_magnet, time.now()
            )
            if coupon is None:
                raise LookupError(f"the coupon pool of {coupon_magnet.id} is empty")
            text = coupon_text(text, coupon, local_zone(message.time_zone, defaults.zone))
        if followup.button is None:
            return Rendered(text)
        label = (
            followup.button.text.get(language) or followup.button.text[definition.default_language]
        )
        async with store.transaction() as tx:
            token = await token_of(tx, message.customer_id, time.now())
        tagged = with_utm(followup.button.url, magnet_id, f"followup_{step + 1}")
        url = with_link_token(tagged, token)
        return Rendered(text, (label, url))

    async def parcel(message: Outgoing, language: str) -> Rendered:
        # Written when sent: the pickup point or the deadline may have come in since.
        status = message.variables.get("status") if message.template == STATUS_TEMPLATE else None
        zone = local_zone(message.time_zone, defaults.zone)
        async with store.transaction() as tx:
            text = await parcel_text(
                tx, definition.delivery, int(message.variables["shipment_id"]),
                None if status is None else str(status), language,
                definition.default_language, zone, message.time_zone is not None,
            )  # fmt: skip
        return Rendered(text)

    async def cart_nudge(message: Outgoing, language: str) -> Rendered:
        # The cart as it is now: an update since the reminder was queued shows in it.
        cart_id, step = int(message.variables["cart_id"]), int(message.variables["step"])
        async with store.transaction() as tx:
            cart = await tx.cart_by_id(cart_id)
            row = await tx.abandoned_cart(cart_id)
        nudges = definition.carts.nudges
        if cart is None or row is None or step >= len(nudges):
            raise LookupError(f"the reminder {step + 1} about cart {cart_id} is gone")
        nudge = nudges[step]
        zone = local_zone(message.time_zone, defaults.zone)
        deadline_at = from_epoch_ms(row.deadline_ms)
        variables = {
            "amount": money(cart.facts.amount, cart.facts.currency, language),
            "items": item_names(
                cart.facts.items, lambda n: definition.text("cart_more_items", language, count=n)
            ),
            "deadline": moment(deadline_at, zone, language, name_zone=message.time_zone is None),
        }  # fmt: skip
        markup: dict[str, str] = {}
        coupon_magnet = definition.magnet(nudge.coupon) if nudge.coupon else None
        if coupon_magnet is not None:
            coupon = await coupon_for(
                store, postbox, admins, message.customer_id, coupon_magnet, time.now(),
                cart=(cart_id, deadline_at),
            )  # fmt: skip
            if coupon is None:
                raise LookupError(f"the coupon pool of {coupon_magnet.id} is empty")
            markup["code"] = f"<code>{html.escape(coupon.code)}</code>"
        template = nudge.text.get(language) or nudge.text[definition.default_language]
        text = render_text(template, variables, markup)
        url = cart.facts.checkout_url
        if nudge.button is None or not url:
            return Rendered(text)
        label = nudge.button.get(language) or nudge.button[definition.default_language]
        token = message.variables.get("token")
        if public_url and token:
            url = f"{public_url.rstrip('/')}{REDIRECT_PATH.format(token=token)}"
        else:
            url = tagged_checkout(url, step)
        return Rendered(text, (label, url))

    return render
