"""Turning an outbox row into the text Telegram receives."""

from __future__ import annotations

import html
from datetime import date

from bot.sender import Render
from funnel.definition import FunnelDefinition
from funnel.digest import DIGEST_TEMPLATE, digest
from funnel.outbox import Outgoing
from funnel.postbox import ALERT_TEMPLATE
from funnel.progress import StagePlan
from funnel.reporting import ReportDefaults
from funnel.store.base import FunnelStore
from handlers.admin.replies import block


def renderer(store: FunnelStore, definition: FunnelDefinition, defaults: ReportDefaults) -> Render:
    """Shop templates in the customer's language; the admins' digest and alerts are built here,
    the digest when it is sent, so that it shows the data as it is then."""
    plan = StagePlan.of(definition)

    async def render(message: Outgoing) -> str:
        if message.template == DIGEST_TEMPLATE:
            caption, body = await digest(
                store, plan, defaults, date.fromisoformat(str(message.variables["day"]))
            )
            return block(caption, body)
        if message.template == ALERT_TEMPLATE:
            return f"⚠️ {html.escape(str(message.variables['text']))}"
        language = message.language or definition.default_language
        return definition.text(message.template, language, **message.variables)

    return render
