"""/help for admins: every admin command, grouped, with the report's grammar."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from funnel.report_args import USAGE

HELP = f"""<b>Funnel</b>
/report — customers, conversion, drop-off and time per stage
/compare — this period against the previous one of the same length
/chart — the report as a picture
/export — CSV: one row per customer, and the report table
/digest — yesterday's funnel and its biggest drop; /digest on|off for the daily one

<b>Periods and options</b> (for all of the above)
<code>{html.escape(USAGE)}</code>
Periods: today, yesterday, 7d (default), 30d, a month 2026-11, a range 2026-11-01..2026-11-21.
cohort (default) follows the customers who started in the period; calendar counts what
happened in it, mixing cohorts.

<b>Links</b>
/links — the t.me link for every magnet and source in the funnel file

<b>Abandoned carts</b>
/nudges [days] — carts abandoned, reminded, clicked and recovered (with revenue), overall and
per step, and the recovery rate against the holdout (last 30 days by default)

<b>Parcels</b>
/delivery [days] — parcels by status, the buy-out and return rates, the median days from the
first scan to delivery, and the parcels waiting at pickup points with their deadlines

<b>Operations</b>
/health — uptime, database size, event counts, last event per platform
/webhooks — deliveries per platform, failures with their reason, refused requests;
/webhooks replay &lt;id&gt;|failed retries failed ones, /webhooks drop &lt;id&gt; forgets one
/help — this list"""


async def on_help(message: Message) -> None:
    await message.answer(HELP)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_help, Command("help"))
    return router
