"""What the cart reminders achieved: abandoned, reminded, clicked, recovered, and the lift
against the holdout, overall and per step of the series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from funnel.nudges import COOLDOWN, HOLDOUT, NUDGED
from funnel.store.base import FunnelTransaction
from funnel.store.base_nudges import ArmTotals, Recovery, StepTotals

# Below this many held-out carts the comparison says it cannot tell yet.
MIN_HOLDOUT = 30


@dataclass(frozen=True, slots=True)
class NudgeReport:
    days: int
    arms: dict[str, ArmTotals]
    steps: list[StepTotals]
    revenue: dict[str, Decimal]

    def arm(self, name: str) -> ArmTotals:
        return self.arms.get(name) or ArmTotals(name, 0, 0, 0, 0, 0, 0)


async def nudge_report(tx: FunnelTransaction, since_ms: int, days: int) -> NudgeReport:
    arms = {row.arm: row for row in await tx.arm_totals(since_ms)}
    steps = await tx.step_totals(since_ms)
    revenue = totals_by_currency(await tx.recovered_revenue(since_ms))
    return NudgeReport(days, arms, steps, revenue)


def totals_by_currency(recoveries: Sequence[Recovery]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for recovery in recoveries:
        try:
            amount = Decimal(recovery.amount or "0")
        except InvalidOperation:
            continue
        currency = recovery.currency or "?"
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return totals


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def summary_text(report: NudgeReport) -> str:
    nudged, holdout, cooldown = (report.arm(a) for a in (NUDGED, HOLDOUT, COOLDOWN))
    abandoned = nudged.abandoned + holdout.abandoned + cooldown.abandoned
    revenue = "; ".join(f"{amount:,.2f} {currency}" for currency, amount in
                        sorted(report.revenue.items())) or "0"  # fmt: skip
    lines = [
        f"abandoned            {abandoned:>6}",
        f"  to remind          {nudged.abandoned:>6}",
        f"  held out           {holdout.abandoned:>6}   (control: no reminders)",
        f"  in cooldown        {cooldown.abandoned:>6}   (reminded shortly before)",
        f"reminded (sent)      {nudged.sent:>6}",
        f"clicked              {nudged.clicked:>6}   {_percent(rate(nudged.clicked, nudged.sent))}"
        " of reminded",
        f"recovered            {nudged.recovered:>6}   via the link {nudged.recovered_via_link}",
        f"recovered revenue    {revenue}",
    ]
    return "\n".join(lines)


def lift_text(report: NudgeReport) -> str:
    nudged, holdout = report.arm(NUDGED), report.arm(HOLDOUT)
    treated = rate(nudged.recovered, nudged.exposed)
    control = rate(holdout.recovered, holdout.exposed)
    lines = [
        f"reminded  {_percent(treated):>8}  ({nudged.recovered}/{nudged.exposed})",
        f"holdout   {_percent(control):>8}  ({holdout.recovered}/{holdout.exposed})",
    ]
    if holdout.exposed == 0:
        lines.append("no holdout: set holdout_percent under [carts] to measure the lift")
    elif treated is not None and control is not None:
        lines.append(f"lift      {(treated - control) * 100:+.1f} pp")
        if holdout.exposed < MIN_HOLDOUT:
            lines.append(f"(fewer than {MIN_HOLDOUT} held-out carts: too few to tell yet)")
    return "\n".join(lines)


def steps_text(report: NudgeReport) -> str:
    lines = ["step  group     reached   sent  clicked  recovered"]
    for row in report.steps:
        group = "holdout" if row.arm == HOLDOUT else "reminded"
        sent = "—" if row.arm == HOLDOUT else str(row.sent)
        lines.append(f"{row.step + 1:>4}  {group:<8} {row.reached:>8} {sent:>6} {row.clicked:>8}"
                     f" {row.recovered:>10}")  # fmt: skip
    return "\n".join(lines) if report.steps else "no reminder has come due yet"
