"""/start, with or without a deep-link payload: the customer's entry into the funnel, and the
lead magnet the link names."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import structlog
from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import FSInputFile, Message, Update, User

from funnel.definition import FunnelDefinition, is_local_file
from funnel.entry import Visitor, enter
from funnel.lead import magnet_delivered, magnet_requested
from funnel.magnets import Magnet, read_payload
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore

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
    if not await _deliver(message, magnet, entry.language, definition, postbox, admin_ids):
        return
    await magnet_delivered(store, entry.customer.id, magnet, asked.source, message.date)


async def _deliver(
    message: Message,
    magnet: Magnet,
    language: str,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
) -> bool:
    """Send the magnet; a missing file alerts the admins and gets the customer an apology."""
    text = magnet.text.get(language) or magnet.text[definition.default_language]
    if magnet.kind == "text" or magnet.file is None:
        await message.answer(text)
        return True
    if is_local_file(magnet.file):
        if not await asyncio.to_thread(Path(magnet.file).is_file):
            log.error("magnet file missing", magnet=magnet.id, file=magnet.file)
            await postbox.alert(
                admin_ids,
                f"magnet:{magnet.id}:file",
                f"The magnet {magnet.id} cannot be sent: its file {magnet.file} is missing.",
            )
            await message.answer(definition.text("sorry", language))
            return False
        attachment: FSInputFile | str = FSInputFile(magnet.file)
    else:
        attachment = magnet.file
    if magnet.kind == "photo":
        await message.answer_photo(attachment, caption=text)
    else:
        await message.answer_document(attachment, caption=text)
    return True


def create_router() -> Router:
    router = Router(name=router_name)
    router.message.register(on_start, CommandStart())
    return router
