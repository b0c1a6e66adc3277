"""Sending a lead magnet: its text, or a file with the text as its caption."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from aiogram.types import FSInputFile, Message, ReplyKeyboardRemove

from funnel.coupons import coupon_for, coupon_text
from funnel.customers import local_zone
from funnel.definition import FunnelDefinition, is_local_file
from funnel.magnets import Magnet
from funnel.postbox import Postbox
from funnel.store.base import FunnelStore

log = structlog.get_logger(__name__)


async def deliver_magnet(
    message: Message,
    magnet: Magnet,
    language: str,
    definition: FunnelDefinition,
    postbox: Postbox,
    admin_ids: Iterable[int],
    *,
    store: FunnelStore,
    customer_id: int,
    shop_zone: ZoneInfo,
    at: datetime,
) -> bool:
    """Send the magnet; a missing file or an empty coupon pool alerts the admins and gets the
    customer an apology. Any contact keyboard still showing is taken away with it."""
    text = magnet.text.get(language) or magnet.text[definition.default_language]
    plain = ReplyKeyboardRemove()
    if magnet.kind == "coupon":
        coupon = await coupon_for(store, postbox, admin_ids, customer_id, magnet, at)
        if coupon is None:
            await message.answer(definition.text("sorry", language), reply_markup=plain)
            return False
        async with store.transaction() as tx:
            customer = await tx.customer_by_telegram(message.chat.id)
        zone = local_zone(customer.time_zone if customer else None, shop_zone)
        text = coupon_text(text, coupon, zone)
        await message.answer(text, reply_markup=plain)
        return True
    if magnet.kind == "text" or magnet.file is None:
        await message.answer(text, reply_markup=plain)
        return True
    if is_local_file(magnet.file):
        if not await asyncio.to_thread(Path(magnet.file).is_file):
            log.error("magnet file missing", magnet=magnet.id, file=magnet.file)
            await postbox.alert(
                admin_ids,
                f"magnet:{magnet.id}:file",
                f"The magnet {magnet.id} cannot be sent: its file {magnet.file} is missing.",
            )
            await message.answer(definition.text("sorry", language), reply_markup=plain)
            return False
        attachment: FSInputFile | str = FSInputFile(magnet.file)
    else:
        attachment = magnet.file
    if magnet.kind == "photo":
        await message.answer_photo(attachment, caption=text, reply_markup=plain)
    else:
        await message.answer_document(attachment, caption=text, reply_markup=plain)
    return True
