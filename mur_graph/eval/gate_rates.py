"""How often the γ gate fires on a cell's recorded steps, and how often it would at other γ.

MUR scales step t when m_t > M_{t-1} + ln(1/γ). The margin ln(1/γ) is in nats and the same for
every step format, but the step uncertainties m_t are not: a format whose steps the model writes
more surely (lower m_t) trips the same γ less often. Every record keeps each step's draft m_t and
the momentum the gate compared it with (`momentum_before`, bias-corrected when the run was), so
the gate's ruling at any γ on the recorded trajectory is arithmetic (`uncertainty.gate_fires`),
with no model call (`mur-graph report --gate`). For a CoT cell, which never scales, that is the
rate at which MUR at that γ would scale its steps until the first scaled step changes the
trajectory; for a MUR cell it is the trajectory its own γ shaped.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from mur_graph.uncertainty import gate_fires

GAMMAS = (0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
"""The γ the table rules at: the paired study's γ curve."""


class GateRow(TypedDict):
    """One cell's recorded steps: their m_t, and the share of gated steps that fire at each γ."""

    cell: str
    questions: int
    steps: float
    """Mean steps per run."""
    gated: int
    """Steps the gate rules on (t ≥ 1), over all runs."""
    median: float | None
    """Median m_t of every step (nats)."""
    p90: float | None
    """90th percentile of m_t (nats)."""
    fires: tuple[float | None, ...]
    """Percent of the gated steps that fire, at each of `GAMMAS`."""


def gate_rates(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[GateRow]:
    """One row per cell (label → its records) whose answered runs recorded their gate."""
    rows: list[GateRow] = []
    for label, records in cells.items():
        ok = [r for r in records if r.get("status") == "ok"]
        steps = [
            step
            for record in ok
            for step in record["result"]["steps"]
            if step.get("momentum_before") is not None and step.get("uncertainty") is not None
        ]
        if not steps:
            continue  # plain runs and records made before the gate was recorded
        gated = [step for step in steps if step["index"] > 0]
        uncertainties = sorted(step["uncertainty"] for step in steps)
        rows.append(
            {
                "cell": label,
                "questions": len(ok),
                "steps": sum(r["result"]["n_steps"] for r in ok) / len(ok),
                "gated": len(gated),
                "median": statistics.median(uncertainties),
                "p90": statistics.quantiles(uncertainties, n=10)[-1] if len(uncertainties) > 1 else None,
                "fires": tuple(_fire_rate(gated, gamma) for gamma in GAMMAS),
            }
        )
    return rows


def _fire_rate(gated: Sequence[Mapping[str, Any]], gamma: float) -> float | None:
    """Percent of `gated` steps whose gate fires at `gamma` (None without a step)."""
    if not gated:
        return None
    fired = sum(
        gate_fires(step["index"], step["uncertainty"], step["momentum_before"], gamma) for step in gated
    )
    return 100.0 * fired / len(gated)


def gate_table(rows: Sequence[GateRow]) -> str:
    """The rows as a Markdown table."""
    titles = ["cell", "n", "steps/q", "gated steps", "m_t median", "m_t 90th pct"]
    titles += [f"fires at γ {gamma:g} %" for gamma in GAMMAS]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for row in rows:
        cells = [row["cell"], str(row["questions"]), _number(row["steps"], 1), str(row["gated"])]
        cells += [_number(row["median"], 3), _number(row["p90"], 3)]
        cells += [_number(rate, 1) for rate in row["fires"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
