"""Funnel reports at 1 M customers and 10 M events, measured against DuckDB on the raw events.

    python -m bench.report [--customers N]

The data set is generated once (seeded) into bench/.data/ and reused. Our reports run in a child
process so that its peak memory is measured alone; DuckDB computes the same ordered, windowed
funnel from the raw events, and both must give the same counts and medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bot.database import open_database
from funnel.clock import SystemClock
from funnel.customers import NewCustomer
from funnel.definition import load_definition
from funnel.events import Event, from_epoch_ms
from funnel.progress import StagePlan
from funnel.report import CALENDAR, COHORT, Period, Query
from funnel.reporting import build_report
from funnel.store.migrations import MigrationError

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / ".data"
DATA_VERSION = "v2"
SEED = 20261130
ZONE = ZoneInfo("UTC")
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
DAY = 86_400_000
PERIOD = Period(date(2026, 10, 1), date(2026, 10, 30))
WINDOW_DAYS = 30
RUNS = 5
PAIRS = 5
CHUNK = 50_000

TYPES = [
    "bot_started", "magnet_delivered", "contact_shared", "email_given", "cart_updated",
    "checkout_started", "order_created", "order_paid", "delivered", "message_sent",
    "nudge_clicked",
]  # fmt: skip
SOURCES = ["vk", "tg_ads", "instagram", "qr_store", "direct", "yandex", "blog", "email",
           "partner", "unknown"]  # fmt: skip
SOURCE_WEIGHTS = np.array([30, 20, 15, 8, 8, 7, 5, 4, 2, 1], float)
PLATFORMS = ["telegram", "shopify", "woocommerce"]
MAGNETS = ["guide", "coupon", "checklist"]

# (stage event, conversion from the previous stage, median hours after it, spread)
STEPS = [
    ("lead", 0.55, 0.05, 1.5),
    ("cart_updated", 0.40, 20.0, 1.5),
    ("checkout_started", 0.60, 2.0, 1.2),
    ("order_created", 0.70, 0.5, 1.0),
    ("order_paid", 0.85, 6.0, 1.5),
    ("delivered", 0.80, 96.0, 0.6),
    ("repeat", 0.25, 500.0, 0.8),
]


@dataclass
class Columns:
    customer: npt.NDArray[np.int64]
    type: npt.NDArray[np.int8]
    at: npt.NDArray[np.int64]
    source: npt.NDArray[np.int8]  # -1: none
    platform: npt.NDArray[np.int8]
    magnet: npt.NDArray[np.int8]  # -1: none


def generate(first_customer: int, count: int, rng: np.random.Generator) -> Columns:
    """Events for customers first_customer.. with realistic drop-offs, about 10 per customer."""
    ids = np.arange(first_customer, first_customer + count, dtype=np.int64)
    year_ms = 365 * DAY
    start = int(YEAR_START.timestamp() * 1000) + rng.integers(0, year_ms, count)
    parts: list[tuple[Any, ...]] = []

    def add(mask: Any, kind: Any, at: Any, platform: int = 0, magnet: Any = -1) -> None:
        n = int(mask.sum())
        kinds = np.full(n, kind, np.int8) if np.isscalar(kind) else kind
        plat = np.full(n, platform, np.int8)
        mag = np.full(n, magnet, np.int8) if np.isscalar(magnet) else magnet
        parts.append((ids[mask], kinds, at, np.full(n, -1, np.int8), plat, mag))

    sources = rng.choice(len(SOURCES), count, p=SOURCE_WEIGHTS / SOURCE_WEIGHTS.sum())
    parts.append(
        (ids, np.zeros(count, np.int8), start, sources.astype(np.int8),
         np.zeros(count, np.int8), np.full(count, -1, np.int8))
    )  # fmt: skip
    shop = np.where(rng.random(count) < 0.6, 1, 2).astype(np.int8)
    reached = np.ones(count, bool)
    t = start.copy()
    for name, rate, hours, spread in STEPS:
        reached &= rng.random(count) < rate
        gap = (rng.lognormal(np.log(hours * 3_600_000), spread, count)).astype(np.int64) + 1
        t = t + gap
        at = t[reached]
        if name == "lead":
            kinds = rng.choice([1, 2, 3], int(reached.sum()), p=[0.7, 0.15, 0.15]).astype(np.int8)
            magnets = np.where(kinds == 1, rng.integers(0, 3, kinds.size), -1).astype(np.int8)
            add(reached, kinds, at, 0, magnets)
        elif name == "repeat":
            add(reached, 7, at + DAY, 1)
        else:
            kind = TYPES.index(name)
            parts.append(
                (ids[reached], np.full(at.size, kind, np.int8), at,
                 np.full(at.size, -1, np.int8), shop[reached], np.full(at.size, -1, np.int8))
            )  # fmt: skip
            if name == "cart_updated":
                again = reached & (rng.random(count) < 0.5)
                add(again, 4, t[again] + rng.integers(60_000, 3_600_000, int(again.sum())), 1)
    # Returning customers paid before they ever opened the bot; some carts predate the start.
    returning = rng.random(count) < 0.05
    add(returning, 7, start[returning] - rng.integers(DAY, 90 * DAY, int(returning.sum())), 1)
    early = rng.random(count) < 0.03
    add(early, 4, start[early] - rng.integers(60_000, DAY, int(early.sum())), 1)
    # Messages and clicks: three quarters of the log.
    per = rng.poisson(7.66, count)
    owners = np.repeat(np.arange(count), per)
    at = start[owners] + rng.integers(0, 60 * DAY, owners.size)
    kinds = np.where(rng.random(owners.size) < 0.85, 9, 10).astype(np.int8)
    parts.append(
        (ids[owners], kinds, at, np.full(owners.size, -1, np.int8),
         np.zeros(owners.size, np.int8), np.full(owners.size, -1, np.int8))
    )  # fmt: skip
    stacked = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    order = np.lexsort((stacked[2], stacked[0]))
    return Columns(*(column[order] for column in stacked))


def _iso(ms: npt.NDArray[np.int64]) -> list[str]:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [value + "+00:00" for value in text.tolist()]


async def build(sqlite_path: Path, duck_path: Path, customers: int, plan: StagePlan) -> None:
    import duckdb

    print(f"generating {customers:,} customers into {sqlite_path.name} (once) ...", flush=True)
    began = time.perf_counter()
    store = await open_database(f"sqlite:///{sqlite_path}", SystemClock(), None)
    await store.close()
    import sqlite3

    db = sqlite3.connect(sqlite_path, isolation_level=None)
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("PRAGMA synchronous = OFF")
    duck = duckdb.connect(str(duck_path))
    duck.execute(
        "CREATE TABLE events (id BIGINT, customer BIGINT, type VARCHAR, t BIGINT, source VARCHAR)"
    )
    rng = np.random.default_rng(SEED)
    next_id = 1
    for first in range(1, customers + 1, CHUNK):
        count = min(CHUNK, customers - first + 1)
        cols = generate(first, count, rng)
        n = cols.customer.size
        event_ids = np.arange(next_id, next_id + n, dtype=np.int64)
        next_id += n
        start_of: dict[int, int] = {}
        firsts = cols.type == 0
        for c, at in zip(cols.customer[firsts].tolist(), cols.at[firsts].tolist(), strict=True):
            start_of.setdefault(c, at)
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO customers (id, first_seen_at) VALUES (?, ?)",
            zip(range(first, first + count), _iso(np.array(
                [start_of[c] for c in range(first, first + count)], np.int64)), strict=True),
        )  # fmt: skip
        occurred = _iso(cols.at)
        types = [TYPES[k] for k in cols.type.tolist()]
        sources = [SOURCES[s] if s >= 0 else None for s in cols.source.tolist()]
        platforms = [PLATFORMS[p] for p in cols.platform.tolist()]
        properties = [
            json.dumps({"magnet": MAGNETS[m]}) if m >= 0 else "{}" for m in cols.magnet.tolist()
        ]
        db.executemany(
            "INSERT INTO events (id, customer_id, type, occurred_at, occurred_ms, received_at,"
            " source, platform, idempotency_key, properties) VALUES (?,?,?,?,?,?,?,?,?,?)",
            zip(event_ids.tolist(), cols.customer.tolist(), types, occurred, cols.at.tolist(),
                occurred, sources, platforms, (f"b:{i}" for i in event_ids.tolist()),
                properties, strict=True),
        )  # fmt: skip
        db.execute("COMMIT")
        duck.register(
            "chunk",
            {"id": event_ids, "customer": cols.customer, "type": np.array(types),
             "t": cols.at, "source": np.array([s or "" for s in sources])},
        )  # fmt: skip
        duck.execute(
            "INSERT INTO events SELECT id, customer, type, t, nullif(source, '') FROM chunk"
        )
        duck.unregister("chunk")
        print(f"  {first + count - 1:,} customers, {next_id - 1:,} events", end="\r", flush=True)
    db.close()
    duck.close()
    print(
        f"\n  loaded in {time.perf_counter() - began:.0f} s; rebuilding progress ...", flush=True
    )
    store = await open_database(f"sqlite:///{sqlite_path}", SystemClock(), plan)
    began = time.perf_counter()
    await store.rebuild_progress(lambda done, total: None)
    await store.close()
    print(f"  rebuild of progress and segments: {time.perf_counter() - began:.1f} s", flush=True)


QUERIES = {
    "cohort": Query(PERIOD, COHORT, WINDOW_DAYS),
    "cohort by source": Query(PERIOD, COHORT, WINDOW_DAYS, "source"),
    "calendar": Query(PERIOD, CALENDAR, WINDOW_DAYS),
}


def _essence(report: dict[str, Any]) -> dict[str, Any]:
    def figures(stages: list[dict[str, Any]]) -> list[tuple[int, float | None]]:
        return [(s["customers"], s["median_seconds_from_previous"]) for s in stages]

    if "breakdown" in report:
        return {value: figures(stages) for value, stages in report["breakdown"].items()}
    return {"total": figures(report["stages"])}


async def child(sqlite_path: Path) -> None:
    """Our side, in its own process: warm once, then time each report RUNS times."""
    plan = StagePlan.of(load_definition(REPO / "funnel.toml"))
    store = await open_database(f"sqlite:///{sqlite_path}", SystemClock(), plan)
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    for name, query in QUERIES.items():
        await build_report(store, plan, query, ZONE)
        samples = []
        for _ in range(RUNS):
            began = time.perf_counter()
            report = await build_report(store, plan, query, ZONE)
            samples.append((time.perf_counter() - began) * 1000)
        timings[name] = statistics.median(samples)
        results[name] = _essence(report.as_json())
    await store.close()
    print(json.dumps({"timings": timings, "results": results, "peak_kib": _peak_kib()}))


def _peak_kib() -> int:
    """This process's own peak resident memory. getrusage would also count the memory the
    process had between fork and exec, which was its parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def duckdb_side(duck_path: Path, plan: StagePlan) -> tuple[dict[str, float], dict[str, Any]]:
    """DuckDB at its best: the events in memory, event types as an ENUM, default threads."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{duck_path}' AS generated (READ_ONLY)")
    con.execute(f"CREATE TYPE kind AS ENUM ({_in(frozenset(TYPES))})")
    con.execute(
        "CREATE TABLE events AS"
        " SELECT id, customer, type::kind AS type, t, source FROM generated.events"
    )
    con.execute("DETACH generated")
    start = int(datetime.combine(PERIOD.first, datetime.min.time(), ZONE).timestamp() * 1000)
    end = start + PERIOD.days * DAY
    window = WINDOW_DAYS * DAY
    sql = {
        "cohort": _duck_cohort(plan, start, end, window, by_source=False),
        "cohort by source": _duck_cohort(plan, start, end, window, by_source=True),
        "calendar": _duck_calendar(plan, start, end),
    }
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    for name, query in sql.items():
        con.execute(query).fetchall()
        samples = []
        for _ in range(RUNS):
            began = time.perf_counter()
            rows = con.execute(query).fetchall()
            samples.append((time.perf_counter() - began) * 1000)
        timings[name] = statistics.median(samples)
        results[name] = _duck_essence(rows, len(plan.names), name)
    con.close()
    return timings, results


def _in(types: frozenset[str]) -> str:
    return ", ".join(f"'{t}'" for t in sorted(types))


def _duck_cohort(plan: StagePlan, start: int, end: int, window: int, by_source: bool) -> str:
    """The greedy ordered chain, one small table per stage keyed by customer; a stage that
    shares event types with an earlier one (repeat) needs a later event than that one."""
    k = len(plan.names)
    later_types = frozenset().union(*plan.types[1:])
    steps = [
        "c AS (SELECT customer, min(t) AS t0, arg_min(source, t) AS source FROM events"
        f" WHERE type IN ({_in(plan.types[0])}) GROUP BY customer"
        f" HAVING min(t) >= {start} AND min(t) < {end})",
        f"e AS (SELECT customer, type, t FROM events WHERE type IN ({_in(later_types)})"
        " AND customer IN (SELECT customer FROM c))",
        "s0 AS (SELECT customer, t0 AS t FROM c)",
    ]
    for i in range(1, k):
        shared = any(plan.types[i] & plan.types[j] for j in range(i))
        steps.append(
            f"s{i} AS (SELECT p.customer, min(e.t) AS t FROM s{i - 1} p JOIN e"
            f" ON e.customer = p.customer AND e.type IN ({_in(plan.types[i])})"
            f" AND e.t {'>' if shared else '>='} p.t GROUP BY p.customer)"
        )
    joined = "c" + "".join(f" LEFT JOIN s{i} ON s{i}.customer = c.customer" for i in range(1, k))

    def at(i: int) -> str:
        return "c.t0" if i == 0 else f"s{i}.t"

    counted = [f"{at(i)} - c.t0 <= {window}" for i in range(1, k)]
    columns = ["count(*)"] + [f"count(*) FILTER (WHERE {c})" for c in counted]
    columns += ["NULL"] + [
        f"median({at(i)} - {at(i - 1)}) FILTER (WHERE {counted[i - 1]})" for i in range(1, k)
    ]
    group = "coalesce(c.source, '(none)')" if by_source else "'total'"
    return (
        f"WITH {', '.join(steps)} SELECT {group} AS grp, {', '.join(columns)}"
        f" FROM {joined} GROUP BY grp ORDER BY grp"
    )


def _duck_calendar(plan: StagePlan, start: int, end: int) -> str:
    """One scan of the period; a stage reached from the nth event on compares each event with
    the customer's nth one."""
    stage_types = frozenset().union(*plan.types)
    ctes = [
        "p AS (SELECT id, customer, type, t FROM events"
        f" WHERE t >= {start} AND t < {end} AND type IN ({_in(stage_types)}))"
    ]
    columns = []
    for i, types in enumerate(plan.types):
        occurrence = plan.occurrences[i]
        if occurrence == 1:
            columns.append(
                f"(SELECT count(DISTINCT customer) FROM p WHERE type IN ({_in(types)}))"
            )
            continue
        ctes.append(
            f"nth{i} AS (SELECT customer, list(t ORDER BY t, id)[{occurrence}] AS t,"
            f" list(id ORDER BY t, id)[{occurrence}] AS id FROM events"
            f" WHERE type IN ({_in(types)}) AND customer IN (SELECT customer FROM p)"
            f" GROUP BY customer HAVING count(*) >= {occurrence})"
        )
        columns.append(
            f"(SELECT count(DISTINCT p.customer) FROM p JOIN nth{i} n ON n.customer = p.customer"
            f" WHERE p.type IN ({_in(types)}) AND (p.t > n.t OR (p.t = n.t AND p.id >= n.id)))"
        )
    return f"WITH {', '.join(ctes)} SELECT {', '.join(columns)}"


def _duck_essence(rows: list[Any], k: int, name: str) -> dict[str, Any]:
    if name == "calendar":
        return {"total": [(int(count), None) for count in rows[0]]}
    out: dict[str, Any] = {}
    for row in rows:
        counts = [int(v) for v in row[1 : 1 + k]]
        medians = [None if v is None else float(v) / 1000 for v in row[1 + k :]]
        out[row[0]] = list(zip(counts, medians, strict=True))
    return out


async def ingest(plan: StagePlan, events: int) -> tuple[float, float, float]:
    """Events/s through record_many in batches of 100: plain appends against keeping progress."""
    rng = np.random.default_rng(SEED + 1)
    cols = generate(1, events // 10, rng)
    shuffled = list(range(cols.customer.size))
    random.Random(SEED).shuffle(shuffled)
    rates: dict[bool, list[float]] = {False: [], True: []}
    # Pairs of runs, plain then kept: the machine drifts between pairs, not within one.
    for kept in (None, plan) * PAIRS:
        with tempfile.TemporaryDirectory() as folder:
            store = await open_database(f"sqlite:///{folder}/ingest.sqlite3", SystemClock(), kept)
            async with store.transaction() as tx:
                for _ in range(events // 10):
                    await tx.add_customer(NewCustomer(first_seen_at=YEAR_START))
            batch = [
                Event(
                    int(cols.customer[i]),
                    TYPES[cols.type[i]],
                    from_epoch_ms(int(cols.at[i])),
                    key=f"i:{i}",
                    source=SOURCES[cols.source[i]] if cols.source[i] >= 0 else None,
                    platform=PLATFORMS[cols.platform[i]],
                )
                for i in shuffled[:events]
            ]
            began = time.perf_counter()
            for at in range(0, len(batch), 100):
                async with store.transaction() as tx:
                    await tx.record_many(batch[at : at + 100])
            # Progress counts as kept once nothing waits to be settled.
            await store.settle_progress()
            rates[kept is not None].append(len(batch) / (time.perf_counter() - began))
            await store.close()
    costs = [1 - k / p for p, k in zip(rates[False], rates[True], strict=True)]
    return (
        statistics.median(rates[False]),
        statistics.median(rates[True]),
        statistics.median(costs),
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--ingest-events", type=int, default=60_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        await child(args.child)
        return
    plan = StagePlan.of(load_definition(REPO / "funnel.toml"))
    DATA.mkdir(parents=True, exist_ok=True)
    stem = f"report-{DATA_VERSION}-{args.customers}-{plan.fingerprint}"
    sqlite_path, duck_path = DATA / f"{stem}.sqlite3", DATA / f"{stem}.duckdb"
    try:
        ready = sqlite_path.exists() and duck_path.exists()
        if ready:
            store = await open_database(f"sqlite:///{sqlite_path}", SystemClock(), plan)
            ready = await store.progress_is_current()
            await store.close()
    except MigrationError:
        ready = False
    if not ready:
        for path in DATA.glob(f"{stem}.*"):
            path.unlink()
        await build(sqlite_path, duck_path, args.customers, plan)

    child_run = subprocess.run(
        [sys.executable, "-m", "bench.report", "--child", str(sqlite_path)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    ours = json.loads(child_run.stdout.strip().splitlines()[-1])
    peak_mib = ours["peak_kib"] / 1024
    duck_times, duck_results = duckdb_side(duck_path, plan)

    print(
        f"\nFunnel reports: {args.customers:,} customers, period {PERIOD}, window {WINDOW_DAYS} d"
    )
    print(f"{'report':<18} {'ours ms':>8} {'DuckDB ms':>10} {'ratio':>6}  target ≤300 ms, ≤0.5×")
    all_ok = True
    for name in QUERIES:
        mine, theirs = ours["timings"][name], duck_times[name]
        ok = mine <= 300 and mine <= 0.5 * theirs
        all_ok &= ok
        print(f"{name:<18} {mine:>8.1f} {theirs:>10.1f} {mine / theirs:>6.2f}  {verdict(ok)}")
        same = _same(ours["results"][name], duck_results[name])
        all_ok &= same
        print(f"{'':<18} same counts and medians as DuckDB: {'yes' if same else 'NO'}")
    print(f"peak RSS of the report process: {peak_mib:.0f} MiB (target ≤200) "
          f"{verdict(peak_mib <= 200)}")  # fmt: skip
    plain, kept, cost = await ingest(plan, args.ingest_events)
    print(f"ingest, batches of 100 (median of {PAIRS} pairs): plain {plain:,.0f} events/s, "
          f"keeping progress {kept:,.0f} events/s: costs {cost:.0%} (target ≤30%) "
          f"{verdict(cost <= 0.30)}")  # fmt: skip


def _same(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    if mine.keys() != theirs.keys():
        return False
    for key, figures in mine.items():
        for (count, median), (other_count, other_median) in zip(figures, theirs[key], strict=True):
            if count != other_count:
                return False
            if (median is None) != (other_median is None):
                return False
            if median is not None and abs(median - other_median) > 1e-3:
                return False
    return True


if __name__ == "__main__":
    asyncio.run(main())
