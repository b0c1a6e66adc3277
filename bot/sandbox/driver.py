"""A customer at the keyboard: sends text, taps links and buttons, reads the bot's replies."""

from __future__ import annotations

from typing import Any

from bot.sandbox.server import BotApiSandbox
from bot.sandbox.world import Profile, SentMessage, command_entities


class ButtonNotFound(LookupError):
    """The customer's chat has no such button to tap."""


class SandboxUser:
    def __init__(self, sandbox: BotApiSandbox, profile: Profile) -> None:
        self.sandbox = sandbox
        self.profile = sandbox.add_user(profile)

    @property
    def inbox(self) -> list[SentMessage]:
        """Everything the bot has sent this user, oldest first."""
        return self.sandbox.messages_to(self.profile.id)

    async def send(self, text: str) -> list[SentMessage]:
        return await self._act(
            self.sandbox.user_message(self.profile, text=text, entities=command_entities(text))
            if text.startswith("/")
            else self.sandbox.user_message(self.profile, text=text)
        )

    async def start(self, payload: str | None = None) -> list[SentMessage]:
        """Open the bot, as tapping t.me/<bot>?start=<payload> does."""
        return await self.send(f"/start {payload}" if payload else "/start")

    async def send_sticker(self) -> list[SentMessage]:
        sticker = {
            "file_id": "sandbox-sticker",
            "file_unique_id": "sandbox-sticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._act(self.sandbox.user_message(self.profile, sticker=sticker))

    async def share_contact(self, phone: str, of_user: int | None = None) -> list[SentMessage]:
        """Tap "share my number" (of_user None), or forward someone else's contact card."""
        contact = {
            "phone_number": phone,
            "first_name": self.profile.first_name,
            "user_id": self.profile.id if of_user is None else of_user,
        }
        return await self._act(self.sandbox.user_message(self.profile, contact=contact))

    async def click(self, button_text: str) -> list[SentMessage]:
        """Tap the newest inline button with this text."""
        for message in reversed(self.inbox):
            for button in message.buttons():
                if button.get("text") == button_text and "callback_data" in button:
                    update = self.sandbox.callback_query(
                        self.profile, message, str(button["callback_data"])
                    )
                    return await self._act(update)
        raise ButtonNotFound(
            f"no inline button {button_text!r} in {self.profile.first_name}'s chat"
        )

    async def _act(self, update: dict[str, Any]) -> list[SentMessage]:
        before = len(self.inbox)
        await self.sandbox.deliver(update)
        return self.inbox[before:]
