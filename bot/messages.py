"""Turning an outbox row into the text Telegram receives."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date

from bot.sender import Render, Rendered
from funnel.clock import Clock, SystemClock
from funnel.coupons import coupon_for, coupon_text
from funnel.customers import local_zone
from funnel.definition import FunnelDefinition
from funnel.digest import DIGEST_TEMPLATE, digest
from funnel.lead import FOLLOWUP_TEMPLATE
from funnel.linking import token_of, with_link_token
from funnel.magnets import with_utm
from funnel.outbox import Outgoing
from funnel.postbox import ALERT_TEMPLATE, Postbox
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from handlers.admin.replies import block


def renderer(
    store: FunnelStore,
    definition: FunnelDefinition,
    defaults: ReportDefaults,
    clock: Clock | None = None,
    admin_ids: Iterable[int] = (),
) -> Render:
    """Shop templates in the customer's language; the admins' digest and alerts are built here,
    the digest when it is sent, so that it shows the data as it is then."""
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
        url = with_link_token(with_utm(followup.button.url, magnet_id, step), token)
        return Rendered(text, (label, url))

    return render
