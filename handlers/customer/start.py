"""/start, with or without a deep-link payload: the customer's entry into the funnel, and the
lead magnet the link names."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update, User

from funnel.definition import FunnelDefinition
from funnel.entry import Visitor, enter
from funnel.lead import gate_passed, magnet_delivered, magnet_requested, schedule_followups
from funnel.magnets import read_payload
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore
from handlers.customer.delivery import deliver_magnet
from handlers.customer.gates import ask_for_gate, is_subscribed

router_name = __name__
log = structlog.get_logger(__name__)


async def on_start(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    event_update: Update,
    store: FunnelStore,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    bot: Bot,
) -> None:
    asked = read_payload(command.args, definition.magnets)
    key = f"telegram:update:{event_update.update_id}"
    entry = await enter(
        store,
        Visitor(event_from_user.id, event_from_user.language_code),
        command.args,
        asked.source,
        occurred_at=message.date,
        key=key,
        languages=tuple(definition.languages),
        default_language=definition.default_language,
    )
    log.info(
        "customer entered",
        customer_id=entry.customer.id,
        source=entry.source,
        first_touch=entry.first_touch,
        magnet=asked.magnet,
    )
    name = event_from_user.first_name
    if asked.magnet is None:
        template = "welcome" if entry.first_touch else "welcome_back"
        await message.answer(definition.text(template, entry.language, first_name=name))
        return
    magnet = definition.magnet(asked.magnet)
    await magnet_requested(store, entry.customer.id, asked, magnet, message.date, key)
    if magnet is None:
        available = "\n".join(
            f"• {m.title.get(entry.language) or m.title[definition.default_language]}"
            for m in definition.magnets
        )
        await message.answer(
            definition.text("magnet_unknown", entry.language, first_name=name, magnets=available)
        )
        return
    already = magnet.gate == "channel" and await is_subscribed(
        bot, magnet.channel or "", event_from_user.id
    )
    if already:
        await gate_passed(store, entry.customer.id, "channel", None, magnet.id, message.date, key)
    elif magnet.gate != "none":
        await ask_for_gate(message, store, entry.customer.id, magnet, asked.source, entry.language,
                           definition)  # fmt: skip
        return
    if not await deliver_magnet(message, magnet, entry.language, definition, postbox, admin_ids):
        return
    await magnet_delivered(store, entry.customer.id, magnet, asked.source, message.date)
    await schedule_followups(postbox, entry.customer.id, magnet, message.date)


def create_router() -> Router:
    router = Router(name=router_name)
    router.message.register(on_start, CommandStart())
    return router
