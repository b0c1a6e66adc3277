"""/links: every magnet and source deep link, ready for ads, posts and QR codes."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from funnel.definition import FunnelDefinition
from funnel.magnets import links_table
from handlers.admin.replies import block


async def on_links(message: Message, bot: Bot, definition: FunnelDefinition) -> None:
    me = await bot.me()
    table = links_table(me.username or str(me.id), definition.offered_magnets, definition.sources)
    await message.answer(block("Links: magnet, source, link", table))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_links, Command("links"))
    return router
