"""POST /webhooks/<platform>: read, verify, keep in the inbox, then acknowledge.

Nothing is parsed beyond what deduplication needs before the 200: the worker does the rest, so
the answer comes in milliseconds and a crash after it loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from aiohttp import web

from funnel.events import epoch_ms
from funnel.inbox import Incoming
from handlers.web.keys import CLOCK, STORE
from handlers.webhooks import cdek, woocommerce
from handlers.webhooks.common import Refused
from handlers.webhooks.intake import Intake
from handlers.webhooks.platforms import PLATFORMS, Platform, Signed

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1_048_576

# Never kept with a delivery: proofs of authenticity and credentials.
_SECRET_HEADER = re.compile("hmac|signature|authorization|cookie|token", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Webhooks:
    """The enabled platforms' secrets, and how to tell the inbox worker there is work."""

    secrets: Mapping[str, tuple[str, ...]]
    wake: Callable[[], None] = field(default=lambda: None)
    # Shared with the inbox worker, which gives way while a burst is being acknowledged.
    intake: Intake | None = None


WEBHOOKS = web.AppKey("webhooks", Webhooks)
INTAKE = web.AppKey("intake", Intake)


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _read(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(65_536):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


def _kept_headers(request: web.Request) -> dict[str, str]:
    return {
        name: value for name, value in request.headers.items() if not _SECRET_HEADER.search(name)
    }


async def receive(request: web.Request) -> web.Response:
    return await _handle(request, request.match_info["platform"])


async def _cdek(request: web.Request) -> web.Response:
    return await _handle(request, cdek.PLATFORM)


async def _handle(request: web.Request, name: str) -> web.Response:
    secrets = request.app[WEBHOOKS].secrets.get(name, ())
    platform = PLATFORMS.get(name)
    if platform is None or not secrets:
        return _error(404, f"no webhook is enabled at {request.path}")
    store, now = request.app[STORE], request.app[CLOCK].now()
    try:
        return await _accept(request, platform, secrets)
    except Refused as refused:
        log.warning("webhook refused", platform=name, status=refused.status, reason=refused.reason)
        async with store.transaction() as tx:
            await tx.note_rejection(name, _reason_kind(refused.status), epoch_ms(now))
        return _error(refused.status, refused.reason)


def _reason_kind(status: int) -> str:
    return {401: "signature", 413: "too large", 415: "content type"}.get(status, "invalid")


async def _accept(
    request: web.Request, platform: Platform, secrets: tuple[str, ...]
) -> web.Response:
    body = await _read(request)
    if platform.name == woocommerce.PLATFORM and woocommerce.is_ping(request.headers, body):
        # WooCommerce's ping is unsigned and must get exactly 200 to save the webhook.
        return web.json_response({"status": "pong"})
    now = request.app[CLOCK].now()
    signed = Signed(request.headers, body, request.match_info.get("secret", ""), now)
    if not platform.verify(signed, secrets):
        raise Refused(401, "the signature is missing or does not match")
    if request.content_type != "application/json":
        raise Refused(415, "the content type must be application/json")
    try:
        envelope = platform.envelope(request.headers, body)
    except ValueError:  # orjson's errors and UnicodeDecodeError are ValueErrors
        raise Refused(400, "the body is not a valid JSON object") from None
    inbox_id = await request.app[INTAKE].keep(
        Incoming(platform.name, envelope.delivery_id, envelope.topic, _kept_headers(request),
                 body, epoch_ms(now))
    )  # fmt: skip
    if inbox_id is None:
        log.info("webhook duplicate", platform=platform.name, delivery=envelope.delivery_id)
        return web.json_response({"status": "duplicate"})
    request.app[WEBHOOKS].wake()
    log.info("webhook accepted", platform=platform.name, topic=envelope.topic, inbox_id=inbox_id)
    return web.json_response({"status": "accepted", "id": inbox_id})


def add_routes(app: web.Application) -> None:
    intake = app[WEBHOOKS].intake or Intake(app[STORE])
    app[INTAKE] = intake
    app.cleanup_ctx.append(intake.running)
    app.router.add_post("/webhooks/cdek/{secret}", _cdek)
    app.router.add_post("/webhooks/{platform}", receive)
