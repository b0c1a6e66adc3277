"""What each funnelbot subcommand does, once its arguments and settings are known."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Never, TextIO

from tqdm import tqdm

from bot.app import create_bot
from bot.database import migrations_dir, open_database
from bot.demo import run_demo
from bot.inbox_worker import InboxWorker
from bot.runtime import serve, stop_on_signals, tune_garbage_collector
from bot.settings import Settings
from funnel.chart import chart_png
from funnel.clock import SystemClock
from funnel.definition import FunnelDefinition, load_definition
from funnel.history import import_rows, validate
from funnel.inbox import FAILED
from funnel.magnets import links_table
from funnel.progress import StagePlan
from funnel.report import Period, Query
from funnel.report_text import plain
from funnel.reporting import build_report
from funnel.store.base import FunnelStore
from funnel.store.migrations import discover
from handlers.webhooks.platforms import parsers

SHOWN_PROBLEMS = 50
PLACEHOLDER_USERNAME = "your_bot"


class Failure(Exception):
    """Ends the command with these lines on stderr."""

    def __init__(self, *lines: str, exit_code: int = 1) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = lines
        self.exit_code = exit_code


async def run(args: argparse.Namespace, settings: Settings, out: TextIO) -> None:
    command: str = args.command
    if command == "run" and settings.demo_mode:
        out.write(
            "BOT_TOKEN is not set, so this is the offline demo. To run the real bot, "
            "put BOT_TOKEN=<token from @BotFather> in .env (see .env.example).\n\n"
        )
        command = "demo"
    if command == "run":
        stop = asyncio.Event()
        stop_on_signals(stop)
        tune_garbage_collector()
        await serve(settings, SystemClock(), stop)
    elif command == "demo":
        await run_demo(load_definition(settings.FUNNEL_FILE), settings.shop_zone, out)
    elif command == "migrate":
        await migrate(settings, out)
    elif command == "check":
        check(settings, out)
    elif command == "import":
        await import_history(settings, args, out)
    elif command in ("report", "chart"):
        await report(settings, args, out)
    elif command == "rebuild":
        await rebuild(settings, out)
    elif command == "links":
        await links(settings, out)
    elif command == "coupons":
        await load_coupons(settings, args, out)
    elif command == "replay":
        await replay(settings, args, out)


def _bar(total: int, unit: str, description: str) -> tqdm[Never]:
    # A bar only on a terminal; pipes and CI logs get the summary line alone.
    return tqdm(
        total=total,
        unit=unit,
        unit_scale=True,
        desc=description,
        file=sys.stderr,
        disable=None,
        leave=False,
    )


def _advance_to(bar: tqdm[Never]) -> Callable[[int], None]:
    def advance(done: int) -> None:
        bar.update(done - bar.n)

    return advance


@asynccontextmanager
async def _funnel_store(
    settings: Settings, *, current: bool = True
) -> AsyncIterator[tuple[FunnelDefinition, StagePlan, FunnelStore]]:
    definition = load_definition(settings.FUNNEL_FILE)
    plan = StagePlan.of(definition)
    store = await open_database(settings.DATABASE_URL, SystemClock(), plan)
    try:
        if current and not await store.progress_is_current():
            raise Failure(
                "the funnel stages changed since progress was computed: "
                "run `funnelbot rebuild` first"
            )
        yield definition, plan, store
    finally:
        await store.close()


async def migrate(settings: Settings, out: TextIO) -> None:
    store = await open_database(settings.DATABASE_URL, SystemClock(), migrate=False)
    try:
        applied = await store.migrate(discover(migrations_dir()))
    finally:
        await store.close()
    if applied:
        for migration in applied:
            out.write(f"applied {migration.name}\n")
    else:
        out.write("the database is up to date\n")


def check(settings: Settings, out: TextIO) -> None:
    definition = load_definition(settings.FUNNEL_FILE)
    mode = (
        "offline demo (no BOT_TOKEN)"
        if settings.demo_mode
        else f"webhook at {settings.PUBLIC_URL}"
        if settings.webhook_mode
        else "long polling"
    )
    out.write("Settings are valid.\n")
    out.write(f"  mode:        {mode}\n")
    out.write(f"  Bot API:     {settings.TELEGRAM_API_URL}\n")
    out.write(f"  database:    {settings.DATABASE_URL}\n")
    out.write(f"  web server:  {settings.HTTP_HOST}:{settings.HTTP_PORT}\n")
    out.write(f"  admins:      {len(settings.ADMIN_IDS) or 'none configured'}\n")
    out.write(f"  shop zone:   {settings.SHOP_TIMEZONE}\n")
    out.write(f"  window:      {settings.CONVERSION_WINDOW_DAYS} days\n")
    out.write(f"Funnel file {settings.FUNNEL_FILE} is valid.\n")
    out.write(
        f"  languages:   {', '.join(definition.languages)} "
        f"(default {definition.default_language})\n"
    )
    out.write("  stages:\n")
    for number, stage in enumerate(definition.stages, start=1):
        reached_by = ", ".join(stage.events)
        nth = f" (occurrence {stage.occurrence})" if stage.occurrence > 1 else ""
        out.write(f"    {number}. {stage.name:<10} ← {reached_by}{nth}\n")
    out.write(f"  templates:   {', '.join(sorted(definition.templates))}\n")
    out.write(f"  cart reminders: {_carts_summary(definition, settings)}\n")
    told = ", ".join(definition.delivery.messages) or "none"
    out.write(f"  delivery messages: {told}\n")
    stale = (
        f"on, after {settings.STALE_PARCEL_HOURS} h"
        if settings.cdek_polling
        else "off (set CDEK_CLIENT_ID and CDEK_CLIENT_SECRET)"
    )
    out.write(f"  stale CDEK parcel lookups: {stale}\n")
    _check_webhooks(settings, out)


def _carts_summary(definition: FunnelDefinition, settings: Settings) -> str:
    carts = definition.carts
    if not carts.nudges:
        return "none (add [[carts.nudges]] to the funnel file)"
    steps = ", ".join(step.after + (" with a coupon" if step.coupon else "")
                      for step in carts.nudges)  # fmt: skip
    links = "tracked links" if settings.PUBLIC_URL else "direct links (no PUBLIC_URL)"
    return (
        f"after {carts.abandoned_after} idle: {steps}; holdout {carts.holdout_percent} %; {links}"
    )


_SECRET_SETTING = {
    "shopify": "SHOPIFY_WEBHOOK_SECRETS",
    "woocommerce": "WOOCOMMERCE_WEBHOOK_SECRET",
    "aftership": "AFTERSHIP_WEBHOOK_SECRET",
    "cdek": "CDEK_WEBHOOK_TOKEN",
    "generic": "GENERIC_WEBHOOK_SECRETS",
}


def _check_webhooks(settings: Settings, out: TextIO) -> None:
    """Which platforms are on, and the URL to register with each (CDEK's holds its token)."""
    base = str(settings.PUBLIC_URL or f"http://{settings.HTTP_HOST}:{settings.HTTP_PORT}")
    enabled = settings.webhook_secrets
    out.write("Webhooks (register these URLs with each platform):\n")
    for platform, setting in _SECRET_SETTING.items():
        if platform not in enabled:
            out.write(f"  {platform:<12} off (set {setting})\n")
            continue
        path = f"/webhooks/{platform}"
        if platform == "cdek":
            path += f"/{enabled[platform][0]}"
        out.write(f"  {platform:<12} {base.rstrip('/')}{path}\n")
    if enabled and settings.PUBLIC_URL is None:
        out.write("  PUBLIC_URL is not set: the platforms need the address they can reach.\n")


async def import_history(settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    path = args.file
    size = path.stat().st_size
    try:
        with (
            path.open(encoding="utf-8", newline="") as stream,
            _bar(size, "B", "checking") as bar,
        ):
            problems = validate(stream, path.name, _advance_to(bar))
    except UnicodeDecodeError as error:
        raise Failure(f"{path.name} is not UTF-8 text (byte {error.start})") from None
    if problems and not args.skip_invalid:
        shown = [str(p) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"... and {len(problems) - SHOWN_PROBLEMS} more")
        raise Failure(
            *shown,
            f"nothing was imported: {len(problems)} invalid row(s) in {path.name} "
            "(fix them, or pass --skip-invalid to import the rest)",
        )
    for problem in problems:
        out.write(f"skipped {problem}\n")
    async with _funnel_store(settings) as (_, _, store):
        with (
            path.open(encoding="utf-8", newline="") as stream,
            _bar(size, "B", "importing") as bar,
        ):
            outcome = await import_rows(store, stream, path.name, _advance_to(bar))
    out.write(
        f"imported {outcome.imported} event(s), {outcome.duplicates} duplicate(s) skipped, "
        f"for {len(outcome.customers)} customer(s), {outcome.new_customers} of them new\n"
    )


async def report(settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    zone = settings.shop_zone
    last = args.last or datetime.now(zone).date()
    first = args.first or last - timedelta(days=6)
    try:
        period = Period(first, last)
    except ValueError as error:
        raise Failure(str(error), exit_code=2) from None
    query = Query(period, args.mode, args.window or settings.CONVERSION_WINDOW_DAYS, args.by)
    async with _funnel_store(settings) as (_, plan, store):
        result = await build_report(store, plan, query, zone)
    if args.command == "chart":
        args.out.write_bytes(chart_png(result))
        out.write(f"wrote {args.out}\n")
    elif args.json:
        out.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    else:
        out.write(plain(result))


async def rebuild(settings: Settings, out: TextIO) -> None:
    async with _funnel_store(settings, current=False) as (_, plan, store):
        with _bar(0, "events", "rebuilding") as bar:

            def progressed(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            await store.rebuild_progress(progressed)
    out.write(f"funnel progress rebuilt for {len(plan.names)} stages\n")


async def links(settings: Settings, out: TextIO) -> None:
    definition = load_definition(settings.FUNNEL_FILE)
    username = PLACEHOLDER_USERNAME
    if not settings.demo_mode:
        bot = create_bot(settings.BOT_TOKEN.get_secret_value(), str(settings.TELEGRAM_API_URL))
        try:
            me = await bot.me()
        finally:
            await bot.session.close()
        username = me.username or str(me.id)
    out.write(links_table(username, definition.offered_magnets, definition.sources) + "\n")
    if settings.demo_mode:
        out.write(f"(set BOT_TOKEN to print links with the bot's own username for {username})\n")


async def load_coupons(settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    try:
        text = args.file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise Failure(f"{args.file.name} is not UTF-8 text (byte {error.start})") from None
    codes = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [code for code in codes if not re.fullmatch(r"[A-Za-z0-9_-]{3,64}", code)]
    if bad:
        raise Failure(
            f"{args.file.name}: {len(bad)} line(s) are not coupon codes, e.g. {bad[0][:40]!r}"
        )
    async with _funnel_store(settings) as (_, _, store), store.transaction() as tx:
        added = await tx.load_coupons(args.pool, codes)
        free = await tx.free_coupons(args.pool)
    out.write(
        f"loaded {added} code(s) into {args.pool}, {len(codes) - added} already known; "
        f"{free} free\n"
    )


async def replay(settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    """Process failed deliveries again, now: those named, or every failed one."""
    async with _funnel_store(settings) as (_, _, store):
        async with store.transaction() as tx:
            wanted = None if args.failed else [args.id]
            if args.id is not None and await tx.delivery(args.id) is None:
                raise Failure(f"there is no delivery #{args.id} in the inbox")
            queued = await tx.requeue_deliveries(wanted)
        if queued == 0:
            out.write("nothing to replay: no failed delivery matched\n")
            return
        worker = InboxWorker(store, SystemClock(), parsers(), region=settings.SHOP_REGION)
        outcome = await worker.drain()
        async with store.transaction() as tx:
            still = await tx.recent_deliveries(100, FAILED)
    out.write(f"replayed {queued}: {outcome.processed} processed, {outcome.failed} failed\n")
    for line in still:
        out.write(f"  #{line.id} {line.platform} {line.topic}: {line.error}\n")
