"""How the demo prints a scene: its title, what the person did, and what the bot answered."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TextIO

from bot.sandbox.driver import SandboxUser
from bot.sandbox.world import SentMessage


async def act(
    out: TextIO,
    title: str,
    user: SandboxUser,
    said: str,
    act: Awaitable[list[SentMessage]],
) -> None:
    out.write(f"\n── {title}\n")
    out.write(f"   {user.profile.first_name:>5} ▸ {said}\n")
    for reply in await act:
        show(out, reply)


def show(out: TextIO, reply: SentMessage) -> None:
    """One message from the bot: its text (or file), and its link buttons."""
    if reply.kind != "text":
        size = len(reply.content or b"")
        out.write(f"   {'bot':>5} ◂ [{reply.kind} {reply.file}, {size:,} bytes] {reply.text}\n")
        return
    lines = reply.text.splitlines() or [""]
    out.write(f"   {'bot':>5} ◂ {lines[0]}\n")
    for line in lines[1:]:
        out.write(f"   {'':>5}   {line}\n")
    for button in reply.buttons():
        if "url" in button:
            out.write(f"   {'':>5}   [{button['text']}] → {button['url']}\n")
