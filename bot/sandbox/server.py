"""The sandbox Bot API server: the methods the bot uses, served over HTTP like Telegram's own.

Updates reach the bot by getUpdates or by a webhook, whichever the bot asks for. deliver() returns
once the bot has finished with an update: when it asks for the next offset (the dispatcher polls
with handle_as_tasks=False) or when its webhook answers.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import UTC
from itertools import count
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.faults import (
    ApiError,
    FaultPlan,
    RateLimiter,
    RateLimits,
    blocked,
    chat_not_found,
)
from bot.sandbox.telegram_html import EntityParseError, plain_text
from bot.sandbox.world import Profile, SentMessage
from funnel.clock import Clock, SystemClock

SANDBOX_TOKEN = "1000000001:sandbox-token-for-the-offline-bot-api"  # noqa: S105 - not a secret
MAX_TEXT = 4096
MAX_CAPTION = 1024
DELIVERY_TIMEOUT = 10.0
WAIT_TIMEOUT = 60.0

Params = Mapping[str, Any]
Method = Callable[[Params], Awaitable[Any]]


class SandboxTimeout(Exception):
    """The bot did not take an update in time: it is not polling, or its webhook hangs."""


class BotApiSandbox:
    def __init__(
        self,
        token: str = SANDBOX_TOKEN,
        *,
        bot_username: str = "funnel_sandbox_bot",
        clock: Clock | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.clock = clock or SystemClock()
        self.faults = FaultPlan()
        # How long wait_until waits: long runs (benchmarks) raise it.
        self.wait_timeout = WAIT_TIMEOUT
        self.limiter = RateLimiter(rate_limits, self.clock) if rate_limits else None
        self.users: dict[int, Profile] = {}
        self.blocked_by: set[int] = set()
        # Channel membership by (chat, user): "member", "left", "creator" or "kicked".
        self.members: dict[tuple[int | str, int], str] = {}
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Error replies by code: a paced sender should never see a 429.
        self.refusals: Counter[int] = Counter()
        # Command menus by scope: "default", or a chat id for BotCommandScopeChat.
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self._update_ids = count(1)
        self._message_ids: dict[int | str, count[int]] = {}
        self._pending: list[dict[str, Any]] = []
        self._confirmed = 0
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._serve_method)
        self.app.router.add_post("/sandbox/messages", self._control_message)
        self.app.router.add_get("/sandbox/chats/{chat_id}/messages", self._control_read)
        self._methods: dict[str, Method] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "answerCallbackQuery": self._true,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChatMember": self._get_chat_member,
            "getChat": self._get_chat,
            "sendChatAction": self._true,
            "close": self._true,
            "logOut": self._true,
        }

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on loopback (a free port by default); returns the base URL for the bot."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        return self.url

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiSandbox:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # The Python API that tests and the demo use ---------------------------------------------

    def add_user(self, profile: Profile) -> Profile:
        self.users[profile.id] = profile
        return profile

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    def user_message(self, profile: Profile, **content: Any) -> dict[str, Any]:
        """A message update from the user, with text, a sticker, a contact..."""
        self.add_user(profile)
        message = {
            "message_id": self._next_message_id(profile.id),
            "date": int(self.clock.now().timestamp()),
            "chat": profile.as_private_chat(),
            "from": profile.as_user(),
            **content,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def callback_query(self, profile: Profile, message: SentMessage, data: str) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": secrets.token_hex(8),
                "from": profile.as_user(),
                "chat_instance": str(profile.id),
                "message": self._message_json(message),
                "data": data,
            },
        }

    async def deliver(self, update: dict[str, Any]) -> None:
        """Hand the update to the bot and return once the bot is done with it."""
        update_id = int(update["update_id"])
        if self.webhook_url:
            await self._post_to_webhook(update)
            return
        async with self._changed:
            self._pending.append(update)
            self._changed.notify_all()
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._confirmed > update_id or self._closing),
                    DELIVERY_TIMEOUT,
                )
            except TimeoutError:
                raise SandboxTimeout(f"the bot did not take update {update_id}") from None

    async def wait_for_webhook(self) -> str:
        """Wait until the bot registers its webhook; returns the URL."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self.webhook_url)), DELIVERY_TIMEOUT
                )
            except TimeoutError:
                raise SandboxTimeout("the bot did not register a webhook") from None
        return self.webhook_url

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until the condition on what the sandbox has seen holds."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(condition), self.wait_timeout)
            except TimeoutError:
                raise SandboxTimeout("the sandbox never saw what was awaited") from None

    async def wait_for_messages(self, chat_id: int, count: int) -> list[SentMessage]:
        """Wait until the chat holds `count` bot messages, for a bot handling updates as tasks."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(self.messages_to(chat_id)) >= count),
                    DELIVERY_TIMEOUT,
                )
            except TimeoutError:
                raise SandboxTimeout(f"the bot sent chat {chat_id} fewer than {count}") from None
        return self.messages_to(chat_id)

    # HTTP ----------------------------------------------------------------------------------

    async def _serve_method(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.match_info["token"], self.token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = self._methods.get(request.match_info["method"])
        if method is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        params = await _read_params(request)
        self.calls.append((request.match_info["method"], dict(params)))
        try:
            fault = self.faults.take(request.match_info["method"], _chat_key(params))
            if fault is not None:
                raise fault
            result = await method(params)
        except ApiError as error:
            self.refusals[error.error_code] += 1
            return web.json_response(error.body(), status=error.error_code)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _control_message(self, request: web.Request) -> web.Response:
        """POST {"user": {"id", "first_name", "language_code"}, "text"}: a user writes."""
        try:
            body = await request.json()
            profile = Profile(**body["user"])
            text = str(body["text"])
        except (ValueError, KeyError, TypeError) as error:
            return web.json_response({"error": f"bad request: {error}"}, status=400)
        update = self.user_message(profile, text=text)
        await self.deliver(update)
        replies = [_sent_json(m) for m in self.messages_to(profile.id)]
        return web.json_response({"update_id": update["update_id"], "chat": replies})

    async def _control_read(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            return web.json_response({"error": "chat id must be an integer"}, status=400)
        return web.json_response([_sent_json(m) for m in self.messages_to(chat_id)])

    # Methods -------------------------------------------------------------------------------

    async def _true(self, _: Params) -> bool:
        return True

    async def _get_me(self, _: Params) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Funnel Sandbox",
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", 0)
        limit = _int(params, "limit", 100)
        timeout = min(_int(params, "timeout", 0), 50)
        async with self._changed:
            if offset:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
                self._confirmed = max(self._confirmed, offset)
                self._changed.notify_all()
            if not self._pending and timeout and not self._closing:
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._pending) or self._closing),
                        timeout,
                    )
            return list(self._pending[:limit])

    async def _set_webhook(self, params: Params) -> bool:
        url = str(params.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook_url = url
        self.webhook_secret = str(params.get("secret_token", ""))
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, _: Params) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _send_message(self, params: Params) -> dict[str, Any]:
        markup = str(params.get("text", ""))
        if not markup:
            raise ApiError(400, "Bad Request: message text is empty")
        return self._store(
            params, kind="text", markup=markup, limit=MAX_TEXT, file=None, content=None
        )

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return self._send_file(params, "document")

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return self._send_file(params, "photo")

    def _send_file(self, params: Params, kind: str) -> dict[str, Any]:
        given = params.get(kind)
        if isinstance(given, str) and given.startswith("attach://"):
            # Uploads travel as a separate multipart field that the parameter names.
            given = params.get(given.removeprefix("attach://"))
        if given is None or given == "":
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if isinstance(given, web.FileField):
            file, content = given.filename, given.file.read()
        else:
            file, content = str(given), None
        markup = str(params.get("caption", ""))
        return self._store(
            params, kind=kind, markup=markup, limit=MAX_CAPTION, file=file, content=content
        )

    def _store(
        self,
        params: Params,
        *,
        kind: str,
        markup: str,
        limit: int,
        file: str | None,
        content: bytes | None,
    ) -> dict[str, Any]:
        chat_id = self._recipient(params)
        parse_mode = params.get("parse_mode") or None
        text = _parse(markup, parse_mode)
        if len(text) > limit:
            raise ApiError(
                400, f"Bad Request: {'message' if kind == 'text' else 'caption'} is too long"
            )
        if self.limiter is not None:
            self.limiter.admit(chat_id)
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=self.clock.now(),
            kind=kind,
            text=text,
            markup=markup,
            parse_mode=parse_mode,
            reply_markup=_json(params, "reply_markup"),
            file=file,
            content=content,
        )
        self.sent.append(message)
        return self._message_json(message)

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._find(params)
        markup = str(params.get("text", ""))
        text = _parse(markup, params.get("parse_mode") or None)
        reply_markup = _json(params, "reply_markup")
        if text == message.text and reply_markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.history.append(message.text)
        message.text, message.markup, message.edited = text, markup, True
        message.reply_markup = reply_markup
        return self._message_json(message)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._find(params)
        message.reply_markup = _json(params, "reply_markup")
        message.edited = True
        return self._message_json(message)

    async def _set_my_commands(self, params: Params) -> bool:
        self.commands[self._scope(params)] = _json(params, "commands") or []
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return self.commands.get(self._scope(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._scope(params), None)
        return True

    def _scope(self, params: Params) -> str:
        scope = _json(params, "scope") or {"type": "default"}
        if scope.get("type") != "chat":
            return str(scope.get("type", "default"))
        chat = scope.get("chat_id")
        if chat not in self.users:
            raise chat_not_found()
        return str(chat)

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = _chat_key(params)
        user_id = _int(params, "user_id", 0)
        profile = self.users.get(user_id)
        if chat is None or profile is None:
            raise ApiError(400, "Bad Request: user not found")
        status = self.members.get((chat, user_id), "left")
        member: dict[str, Any] = {"status": status, "user": profile.as_user()}
        # The fields Telegram sends with each status the sandbox plays.
        extra: dict[str, dict[str, Any]] = {
            "creator": {"is_anonymous": False},
            "kicked": {"until_date": 0},
        }
        member.update(extra.get(status, {}))
        return member

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = _chat_key(params)
        if isinstance(chat, int) and chat in self.users:
            return self.users[chat].as_private_chat()
        raise chat_not_found()

    # Helpers -------------------------------------------------------------------------------

    def _recipient(self, params: Params) -> int:
        chat = _chat_key(params)
        if not isinstance(chat, int) or chat not in self.users:
            raise chat_not_found()
        if chat in self.blocked_by:
            raise blocked()
        return chat

    def _find(self, params: Params) -> SentMessage:
        chat = _chat_key(params)
        message_id = _int(params, "message_id", 0)
        for message in self.sent:
            if message.chat_id == chat and message.message_id == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _next_message_id(self, chat_id: int | str) -> int:
        return next(self._message_ids.setdefault(chat_id, count(1)))

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        profile = self.users[message.chat_id]
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.date.timestamp()),
            "chat": profile.as_private_chat(),
            "from": {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Funnel Sandbox",
                "username": self.bot_username,
            },
        }
        if message.edited:
            body["edit_date"] = int(self.clock.now().timestamp())
        if message.kind == "text":
            body["text"] = message.text
        else:
            if message.text:
                body["caption"] = message.text
            file_id = f"sandbox-{message.kind}-{message.message_id}"
            if message.kind == "document":
                body["document"] = {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_name": message.file,
                }
            else:
                body["photo"] = [
                    {"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600}
                ]
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    async def _post_to_webhook(self, update: dict[str, Any]) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
        try:
            async with self._client.post(
                self.webhook_url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT),
            ) as response:
                if response.status != 200:
                    raise SandboxTimeout(
                        f"the webhook answered update {update['update_id']} with {response.status}"
                    )
        except TimeoutError:
            raise SandboxTimeout(
                f"the webhook did not answer update {update['update_id']}"
            ) from None


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.body_exists:
        form = await request.post()
        params.update(form)
    return params


def _chat_key(params: Params) -> int | str | None:
    raw = params.get("chat_id")
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return str(raw)


def _int(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f'Bad Request: field "{name}" must be a number') from None


def _bool(params: Params, name: str) -> bool:
    return str(params.get(name, "")).lower() in {"true", "1"}


def _json(params: Params, name: str) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


def _parse(markup: str, parse_mode: str | None) -> str:
    try:
        return plain_text(markup, parse_mode)
    except EntityParseError as error:
        raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None


def _sent_json(message: SentMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "date": message.date.astimezone(UTC).isoformat(),
        "kind": message.kind,
        "text": message.text,
        "buttons": [button.get("text") for button in message.buttons()],
        "file": message.file,
    }
