"""Each customer's way through the funnel, derived from their events.

The chain is greedy: a stage is reached by the earliest qualifying event at or after the time the
previous stage was reached, and no event reaches two stages. It does not depend on any conversion
window: the window is applied by reports as `offset <= window`, which is exact because reach
times never decrease along the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from funnel.definition import FunnelDefinition

ORDER_PAID = "order_paid"
MAGNET_DELIVERED = "magnet_delivered"
TELEGRAM = "telegram"
NONE = "(none)"


@dataclass(frozen=True)
class StagePlan:
    """The stages as the progress engine needs them."""

    names: tuple[str, ...]
    types: tuple[frozenset[str], ...]
    occurrences: tuple[int, ...]

    @classmethod
    def of(cls, definition: FunnelDefinition) -> StagePlan:
        return cls(
            names=tuple(stage.name for stage in definition.stages),
            types=tuple(frozenset(stage.events) for stage in definition.stages),
            occurrences=tuple(stage.occurrence for stage in definition.stages),
        )

    @cached_property
    def stages_of(self) -> dict[str, tuple[int, ...]]:
        """For each event type, the stages it can reach."""
        found: dict[str, tuple[int, ...]] = {}
        for stage, types in enumerate(self.types):
            for event_type in types:
                found[event_type] = (*found.get(event_type, ()), stage)
        return found

    @cached_property
    def relevant_types(self) -> frozenset[str]:
        """Every event type progress reads: the stages', and those behind the breakdowns."""
        return frozenset().union(*self.types) | {ORDER_PAID, MAGNET_DELIVERED}

    @property
    def fingerprint(self) -> str:
        """Changes whenever stored progress would have to be recomputed."""
        shape = [
            [n, sorted(t), o]
            for n, t, o in zip(self.names, self.types, self.occurrences, strict=True)
        ]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FunnelEvent:
    """The part of an event that progress needs; at_ms is milliseconds since the epoch (UTC)."""

    id: int
    type: str
    at_ms: int
    source: str | None = None
    platform: str | None = None
    magnet: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """When each stage was first reached in order, and who the customer is for breakdowns."""

    started_ms: int
    chain: tuple[int, ...]
    source: str
    magnet: str
    platform: str
    returning: bool


class Hit(NamedTuple):
    """An event that reaches a stage in calendar terms: it happened, whatever came before."""

    stage: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Analysis:
    """A customer's progress (None until the first stage) and their calendar hits."""

    progress: Progress | None
    hits: frozenset[Hit]


NOTHING = Analysis(None, frozenset())


def analyse(plan: StagePlan, events: Sequence[FunnelEvent]) -> Analysis:
    if not events:
        return NOTHING
    in_order = sorted(events, key=lambda e: (e.at_ms, e.id))
    qualifying = _qualifying(plan, in_order)
    hits = frozenset(Hit(stage, e.at_ms) for stage, found in enumerate(qualifying) for e in found)
    return Analysis(_progress(in_order, qualifying), hits)


def _qualifying(plan: StagePlan, in_order: list[FunnelEvent]) -> list[list[FunnelEvent]]:
    """Per stage, the events that can reach it: its types, from its nth occurrence on."""
    found: list[list[FunnelEvent]] = [[] for _ in plan.names]
    seen = [0] * len(plan.names)
    stages_of = plan.stages_of
    for event in in_order:
        for stage in stages_of.get(event.type, ()):
            seen[stage] += 1
            if seen[stage] >= plan.occurrences[stage]:
                found[stage].append(event)
    return found


def _progress(in_order: list[FunnelEvent], qualifying: list[list[FunnelEvent]]) -> Progress | None:
    if not qualifying[0]:
        return None
    start = qualifying[0][0]
    used = {start.id}
    chain: list[int] = []
    reached_at = start.at_ms
    for candidates in qualifying[1:]:
        candidate = next(
            (e for e in candidates if e.at_ms >= reached_at and e.id not in used), None
        )
        if candidate is None:
            break
        used.add(candidate.id)
        chain.append(candidate.at_ms)
        reached_at = candidate.at_ms
    return Progress(
        started_ms=start.at_ms,
        chain=tuple(chain),
        source=start.source or NONE,
        magnet=next((e.magnet for e in in_order if e.type == MAGNET_DELIVERED and e.magnet), NONE),
        platform=next(
            (e.platform for e in in_order if e.platform and e.platform != TELEGRAM), TELEGRAM
        ),
        returning=any(e.type == ORDER_PAID and e.at_ms < start.at_ms for e in in_order),
    )
