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

from funnel.definition import FunnelDefinition

ORDER_PAID = "order_paid"
MAGNET_DELIVERED = "magnet_delivered"
TELEGRAM = "telegram"
NONE = "(none)"


@dataclass(frozen=True, slots=True)
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

    @property
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


@dataclass(frozen=True, slots=True)
class Hit:
    """An event that reaches a stage in calendar terms: it happened, whatever came before."""

    stage: int
    at_ms: int


def ordered(events: Sequence[FunnelEvent]) -> list[FunnelEvent]:
    return sorted(events, key=lambda e: (e.at_ms, e.id))


def qualifying(plan: StagePlan, events: list[FunnelEvent], stage: int) -> list[FunnelEvent]:
    """The customer's events that can reach the stage: its types, from its nth occurrence on."""
    of_type = [e for e in events if e.type in plan.types[stage]]
    return of_type[plan.occurrences[stage] - 1 :]


def progress_of(plan: StagePlan, events: Sequence[FunnelEvent]) -> Progress | None:
    """The customer's progress, or None until they reach the first stage."""
    in_order = ordered(events)
    first = qualifying(plan, in_order, 0)
    if not first:
        return None
    start = first[0]
    used = {start.id}
    chain: list[int] = []
    reached_at = start.at_ms
    for stage in range(1, len(plan.names)):
        candidate = next(
            (
                e
                for e in qualifying(plan, in_order, stage)
                if e.at_ms >= reached_at and e.id not in used
            ),
            None,
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


def hits_of(plan: StagePlan, events: Sequence[FunnelEvent]) -> list[Hit]:
    """Every stage each event reaches in calendar terms."""
    in_order = ordered(events)
    return [
        Hit(stage, event.at_ms)
        for stage in range(len(plan.names))
        for event in qualifying(plan, in_order, stage)
    ]
