"""Builds the Bot, the Dispatcher and the aiohttp Application. Tests build exactly the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.settings import Settings
from funnel.clock import Clock, SystemClock
from funnel.definition import FunnelDefinition
from funnel.postbox import Postbox
from funnel.progress import StagePlan
from funnel.report import DEFAULT_WINDOW_DAYS
from funnel.reporting import DEFAULT_DROP_POINTS, ReportDefaults
from funnel.store.base import FunnelStore
from handlers import get_routers
from handlers.middlewares import FloodMiddleware, LogContextMiddleware
from handlers.web import coupons, link_tokens, redirect
from handlers.web.health import healthz
from handlers.web.keys import API_KEY, BOT_USERNAME, CLOCK, DEFINITION, LIMIT, STORE
from handlers.web.middlewares import request_context
from handlers.web.ratelimit import RateLimit
from handlers.webhooks import receive
from handlers.webhooks.receive import MAX_BODY_BYTES, WEBHOOKS, Webhooks

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"


def create_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_dispatcher(
    *,
    store: FunnelStore,
    clock: Clock,
    definition: FunnelDefinition,
    admin_ids: Iterable[int] = (),
    report_defaults: ReportDefaults | None = None,
    postbox: Postbox | None = None,
    phone_region: str = "RU",
    wake_inbox: Callable[[], None] = lambda: None,
    webhook_platforms: Iterable[str] = (),
) -> Dispatcher:
    # Handlers receive these as keyword arguments through aiogram's dependency injection.
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        definition=definition,
        plan=StagePlan.of(definition),
        report_defaults=report_defaults
        or ReportDefaults(ZoneInfo("UTC"), DEFAULT_WINDOW_DAYS, DEFAULT_DROP_POINTS),
        started_at=clock.now(),
        postbox=postbox or Postbox(store, clock),
        admin_ids=tuple(admin_ids),
        phone_region=phone_region,
        wake_inbox=wake_inbox,
        webhook_platforms=tuple(webhook_platforms),
    )
    dispatcher.update.outer_middleware(LogContextMiddleware())
    dispatcher.message.outer_middleware(FloodMiddleware(clock))
    dispatcher.include_routers(*get_routers(admin_ids))
    return dispatcher


def report_defaults(settings: Settings) -> ReportDefaults:
    return ReportDefaults(
        settings.shop_zone, settings.CONVERSION_WINDOW_DAYS, settings.COMPARE_DROP_POINTS
    )


def create_web_app(
    *,
    store: FunnelStore,
    telegram: tuple[Dispatcher, Bot, str] | None = None,
    clock: Clock | None = None,
    api_key: str = "",
    webhooks: Webhooks | None = None,
    bot_username: str | None = None,
    definition: FunnelDefinition | None = None,
) -> web.Application:
    """The one HTTP application: health, Telegram's webhook (dispatcher, bot, secret) if given,
    the shops' and carriers' webhooks, the shop API (coupons, link tokens) with a key, and the
    cart reminders' tracked links with the funnel definition."""
    # Bodies are read and size-checked by the webhook handlers themselves.
    app = web.Application(middlewares=[request_context], client_max_size=MAX_BODY_BYTES)
    app[STORE] = store
    app[CLOCK] = clock or SystemClock()
    app[WEBHOOKS] = webhooks or Webhooks({})
    app.router.add_get("/healthz", healthz)
    receive.add_routes(app)
    if definition is not None:
        app[DEFINITION] = definition
        redirect.add_routes(app)
    if api_key:
        app[API_KEY] = api_key
        app[LIMIT] = RateLimit(app[CLOCK])
        app[BOT_USERNAME] = bot_username or ""
        coupons.add_routes(app)
        link_tokens.add_routes(app)
    if telegram is not None:
        dispatcher, bot, secret = telegram
        # Answer only after the update is handled: a failure then makes Telegram redeliver it,
        # and the update's idempotency key keeps the redelivery from counting twice.
        SimpleRequestHandler(
            dispatcher, bot, secret_token=secret, handle_in_background=False
        ).register(app, path=TELEGRAM_WEBHOOK_PATH)
    return app
