"""What the sandbox knows: its users, the messages in each chat, and how to write them as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    """A Telegram user as the sandbox plays them."""

    id: int
    first_name: str
    language_code: str | None = "en"
    last_name: str | None = None
    username: str | None = None

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user

    def as_private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, as the customer's client would show it."""

    chat_id: int
    message_id: int
    date: datetime
    kind: str
    text: str
    markup: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None = None
    file: str | None = None
    content: bytes | None = None
    edited: bool = False
    history: list[str] = field(default_factory=list)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button of an inline or reply keyboard, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or self.reply_markup.get("keyboard") or []
        return [
            button if isinstance(button, dict) else {"text": button}
            for row in rows
            for button in row
        ]


def command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading /command as a bot_command entity."""
    if not text.startswith("/"):
        return []
    length = len(text.split(maxsplit=1)[0])
    return [{"type": "bot_command", "offset": 0, "length": length}]
