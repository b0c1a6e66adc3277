"""`funnelbot run`: the bot and its web server (with Telegram's webhook if set) in one process."""

from __future__ import annotations

import asyncio
import gc
import signal
from contextlib import suppress
from datetime import timedelta

import aiohttp
import structlog
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeChat
from aiohttp import web

from bot.app import (
    TELEGRAM_WEBHOOK_PATH,
    create_bot,
    create_dispatcher,
    create_web_app,
    report_defaults,
)
from bot.cart_jobs import cart_jobs
from bot.database import open_database
from bot.inbox_worker import InboxWorker
from bot.jobs import digest_job, ensure_digest
from bot.messages import renderer
from bot.parcel_jobs import STALE_PARCELS_JOB, ensure_stale_poll, parcel_jobs, stale_parcel_job
from bot.scheduler import Scheduler
from bot.sender import Pacing, Sender
from bot.settings import Settings
from funnel.abandonment import CartReminders
from funnel.clock import Clock
from funnel.definition import load_definition
from funnel.digest import DIGEST_JOB
from funnel.postbox import Postbox
from funnel.progress import StagePlan
from funnel.relay import ParcelRelay
from handlers.admin import ADMIN_COMMANDS
from handlers.webhooks.cdek_api import CdekApi
from handlers.webhooks.intake import Intake
from handlers.webhooks.platforms import parsers
from handlers.webhooks.receive import Webhooks

log = structlog.get_logger(__name__)

COMMANDS = [BotCommand(command="start", description="Start / Начать")]


async def serve(settings: Settings, clock: Clock, stop: asyncio.Event) -> None:
    """Run until stop is set. Polling by default; webhook mode when PUBLIC_URL is set."""
    definition = load_definition(settings.FUNNEL_FILE)
    store = await open_database(settings.DATABASE_URL, clock, StagePlan.of(definition))
    if not await store.progress_is_current():
        log.warning("funnel stages changed since progress was computed: rebuilding it")
        await store.rebuild_progress(lambda done, total: None)
    bot = create_bot(settings.BOT_TOKEN.get_secret_value(), str(settings.TELEGRAM_API_URL))
    defaults = report_defaults(settings)
    public_url = str(settings.PUBLIC_URL) if settings.PUBLIC_URL else None
    render = renderer(store, definition, defaults, clock, settings.ADMIN_IDS, public_url)
    sender = Sender(
        bot, store, clock, settings.policy, render,
        Pacing(per_second=settings.SEND_RATE_PER_SECOND),
    )  # fmt: skip
    postbox = Postbox(store, clock, sender.wake)
    relay = ParcelRelay(definition.delivery, settings.shop_zone, settings.policy.quiet.end)
    scheduler = Scheduler(
        store,
        clock,
        {
            DIGEST_JOB: digest_job(
                store,
                clock,
                settings.ADMIN_IDS,
                settings.shop_zone,
                settings.digest_time,
                sender.wake,
            ),
            **cart_jobs(store, clock, CartReminders(definition.carts), sender.wake),
            **parcel_jobs(store, clock, relay, postbox, settings.ADMIN_IDS, sender.wake),
        },
    )
    await ensure_digest(store, clock, settings.shop_zone, settings.digest_time)
    intake = Intake(store)
    http = aiohttp.ClientSession()
    inbox = InboxWorker(
        store, clock, parsers(), region=settings.SHOP_REGION, postbox=postbox,
        admin_ids=settings.ADMIN_IDS, retention_days=settings.WEBHOOK_RETENTION_DAYS,
        busy=intake.busy, on_applied=scheduler.wake,
    )  # fmt: skip
    if settings.cdek_polling:
        api = CdekApi(http, str(settings.CDEK_API_URL), settings.CDEK_CLIENT_ID,
                      settings.CDEK_CLIENT_SECRET.get_secret_value(), clock)  # fmt: skip
        scheduler.add(STALE_PARCELS_JOB, stale_parcel_job(
            store, clock, api, timedelta(hours=settings.STALE_PARCEL_HOURS), postbox,
            settings.ADMIN_IDS, inbox.wake,
        ))  # fmt: skip
        await ensure_stale_poll(store, clock)
    dispatcher = create_dispatcher(
        store=store,
        clock=clock,
        definition=definition,
        admin_ids=settings.ADMIN_IDS,
        report_defaults=defaults,
        postbox=postbox,
        phone_region=settings.SHOP_REGION,
        wake_inbox=inbox.wake,
        webhook_platforms=settings.webhook_secrets,
    )
    secret = settings.WEBHOOK_SECRET.get_secret_value()
    loops_stop = asyncio.Event()
    loops: list[asyncio.Task[None]] = []
    runner: web.AppRunner | None = None
    try:
        app = create_web_app(
            store=store,
            telegram=(dispatcher, bot, secret) if settings.webhook_mode else None,
            clock=clock,
            api_key=settings.SHOP_API_KEY.get_secret_value(),
            webhooks=Webhooks(settings.webhook_secrets, inbox.wake, intake),
            bot_username=(await bot.me()).username,
            definition=definition,
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.HTTP_HOST, settings.HTTP_PORT).start()
        log.info("web server listening", host=settings.HTTP_HOST, port=settings.HTTP_PORT)
        await _menus(bot, settings.ADMIN_IDS)
        loops = [
            asyncio.create_task(sender.run(loops_stop)),
            asyncio.create_task(scheduler.run(loops_stop)),
            asyncio.create_task(inbox.run(loops_stop)),
        ]
        if settings.webhook_mode:
            await _webhook(settings, dispatcher, bot, secret, stop)
        else:
            await _polling(dispatcher, bot, stop)
    finally:
        loops_stop.set()
        # A message being sent finishes; its row is safe either way (at-least-once).
        await asyncio.gather(*loops, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        await bot.session.close()
        await http.close()
        await store.close()


async def _webhook(
    settings: Settings, dispatcher: Dispatcher, bot: Bot, secret: str, stop: asyncio.Event
) -> None:
    url = str(settings.PUBLIC_URL).rstrip("/") + TELEGRAM_WEBHOOK_PATH
    await bot.set_webhook(
        url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types()
    )
    log.info("webhook mode", url=url)
    await stop.wait()


async def _polling(dispatcher: Dispatcher, bot: Bot, stop: asyncio.Event) -> None:
    # A webhook left over from an earlier deployment would make getUpdates fail.
    await bot.delete_webhook()
    me = await bot.me()
    log.info("polling mode", bot=me.username)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if polling.done():
        stopped.cancel()
        polling.result()
        return
    with suppress(RuntimeError):  # polling may already have stopped on its own
        await dispatcher.stop_polling()
    await polling


async def _menus(bot: Bot, admin_ids: tuple[int, ...]) -> None:
    """Everyone sees /start; each admin's own chat also shows the admin commands."""
    await bot.set_my_commands(COMMANDS)
    admin_menu = COMMANDS + [BotCommand(command=c, description=d) for c, d in ADMIN_COMMANDS]
    for admin_id in admin_ids:
        try:
            await bot.set_my_commands(admin_menu, scope=BotCommandScopeChat(chat_id=admin_id))
        except TelegramBadRequest as error:
            # Telegram knows a chat only once its user has started the bot.
            log.warning("admin menu not set", admin_id=admin_id, reason=error.message)


# Collect the youngest objects every 10,000 allocations instead of 700: a request allocates
# hundreds, and each collection is a pause every request in flight waits out.
YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Once the code is loaded (by `funnelbot run`, not by tests): freeze it out of the cyclic
    collector, whose full passes otherwise walk aiogram, pydantic and the rest every time, and
    collect the young generation less often. Under a burst of 64 concurrent webhooks this cut
    p99 from about 180 ms to 35 ms."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
