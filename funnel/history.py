"""Importing past funnel events from a CRM or shop export: JSON Lines or CSV, same columns.

Rows are validated first, all of them, so that a file is imported whole or not at all (unless
invalid rows are to be skipped). Every row gets an idempotency key, so a second import of the
same file changes nothing.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from funnel.customers import NewCustomer
from funnel.events import Event, derive_key, is_event_type
from funnel.store.base import FunnelStore, FunnelTransaction

REQUIRED = ("customer", "event", "occurred_at")
OPTIONAL = ("source", "platform", "id", "properties")
BATCH = 1_000
_TELEGRAM_KEY = re.compile(r"tg:(\d{1,20})")
_MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    customer: str
    event: str
    occurred_at: datetime
    source: str | None
    platform: str | None
    key: str
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Invalid:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class Outcome:
    imported: int = 0
    duplicates: int = 0
    new_customers: int = 0
    customers: set[str] = field(default_factory=set)


Parsed = Row | Invalid


def read_rows(stream: Iterable[str], name: str) -> Iterator[Parsed]:
    """Each row of a JSON Lines or CSV file, parsed and checked, with its line number."""
    if name.lower().endswith(".csv"):
        yield from _csv_rows(stream)
    else:
        yield from _jsonl_rows(stream)


def _jsonl_rows(stream: Iterable[str]) -> Iterator[Parsed]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except ValueError as error:
            yield Invalid(number, f"not a JSON object: {error}")
            continue
        if not isinstance(data, dict):
            yield Invalid(number, "not a JSON object")
            continue
        yield check(number, data)


def _csv_rows(stream: Iterable[str]) -> Iterator[Parsed]:
    reader = csv.DictReader(stream)
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        yield Invalid(1, f"the header lacks the column {missing[0]!r}")
        return
    for data in reader:
        values: dict[str, Any] = {k: v for k, v in data.items() if v not in ("", None)}
        if None in data:
            yield Invalid(reader.line_num, "more cells than the header has columns")
            continue
        if "properties" in values:
            try:
                values["properties"] = json.loads(values["properties"])
            except ValueError as error:
                yield Invalid(reader.line_num, f"properties: not JSON: {error}")
                continue
        yield check(reader.line_num, values)


def check(line: int, data: dict[str, Any]) -> Parsed:
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        return Invalid(line, f"unknown column {unknown[0]!r}")
    for name in REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            return Invalid(line, f"{name}: missing")
    customer, event = data["customer"].strip(), data["event"].strip()
    if len(customer) > _MAX_KEY:
        return Invalid(line, f"customer: longer than {_MAX_KEY} characters")
    if not is_event_type(event):
        return Invalid(line, f"event: {event!r} is not an event type (lower_snake_case)")
    try:
        occurred_at = datetime.fromisoformat(data["occurred_at"].strip())
    except ValueError:
        return Invalid(line, f"occurred_at: {data['occurred_at']!r} is not an ISO 8601 time")
    if occurred_at.utcoffset() is None:
        return Invalid(line, f"occurred_at: {data['occurred_at']!r} has no UTC offset")
    texts: dict[str, str | None] = {}
    for name in ("source", "platform", "id"):
        value = data.get(name)
        if value is not None and not isinstance(value, str | int):
            return Invalid(line, f"{name}: must be text")
        texts[name] = None if value is None else str(value).strip()[:_MAX_KEY] or None
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        return Invalid(line, "properties: must be a JSON object")
    key = (
        f"import:{texts['id']}"
        if texts["id"]
        else "import:" + derive_key(customer, event, occurred_at, texts["source"], properties)
    )
    return Row(
        line, customer, event, occurred_at, texts["source"], texts["platform"], key, properties
    )


def validate(stream: Iterable[str], name: str, progressed: Callable[[int], None]) -> list[Invalid]:
    """Every invalid row of the file; progressed(bytes read so far) drives a progress bar."""
    problems = []
    for parsed in read_rows(_counting(stream, progressed), name):
        if isinstance(parsed, Invalid):
            problems.append(parsed)
    return problems


async def import_rows(
    store: FunnelStore,
    stream: Iterable[str],
    name: str,
    progressed: Callable[[int], None],
) -> Outcome:
    """Import the valid rows in batches; customers are found or created by their keys."""
    outcome = Outcome()
    known: dict[str, int] = {}
    batch: list[Row] = []
    for parsed in read_rows(_counting(stream, progressed), name):
        if isinstance(parsed, Row):
            batch.append(parsed)
        if len(batch) >= BATCH:
            await _import_batch(store, batch, known, outcome)
            batch = []
    if batch:
        await _import_batch(store, batch, known, outcome)
    await store.settle_progress()
    return outcome


async def _import_batch(
    store: FunnelStore, rows: list[Row], known: dict[str, int], outcome: Outcome
) -> None:
    async with store.transaction() as tx:
        events = []
        for row in rows:
            customer = known.get(row.customer) or await _customer(tx, row, outcome)
            known[row.customer] = customer
            outcome.customers.add(row.customer)
            events.append(
                Event(
                    customer_id=customer,
                    type=row.event,
                    occurred_at=row.occurred_at,
                    key=row.key,
                    source=row.source,
                    platform=row.platform,
                    properties=row.properties,
                )
            )
        imported = await tx.record_many(events)
    outcome.imported += imported
    outcome.duplicates += len(events) - imported


async def _customer(tx: FunnelTransaction, row: Row, outcome: Outcome) -> int:
    telegram = _TELEGRAM_KEY.fullmatch(row.customer)
    if telegram:
        found = await tx.customer_by_telegram(int(telegram.group(1)))
    else:
        found = await tx.customer_by_key(row.customer)
    if found is not None:
        return found.id
    outcome.new_customers += 1
    created = await tx.add_customer(
        NewCustomer(
            first_seen_at=row.occurred_at,
            telegram_user_id=int(telegram.group(1)) if telegram else None,
            first_source=row.source if row.event == "bot_started" else None,
        ),
        keys=() if telegram else (row.customer,),
    )
    return created.id


def _counting(stream: Iterable[str], progressed: Callable[[int], None]) -> Iterator[str]:
    """Passes lines through while reporting how many bytes into the file they reach."""
    read = 0
    for line in stream:
        read += len(line.encode())
        progressed(read)
        yield line
