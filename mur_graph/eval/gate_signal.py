"""Does the γ gate point at the runs that end wrong? The gate's aim, read off recorded runs.

MUR pays for scaling only where the gate fires, so its gain is bounded by how well a firing
gate singles out the runs that are going wrong. On each answered, graded run this module takes
the run's largest gate margin, max over its gated steps (t ≥ 1) of m_t − M_{t-1}: the gate fires
somewhere in the run at γ exactly when that margin exceeds ln(1/γ). It reports, per cell, the
share of wrong runs and of right runs on which the gate fires at least once at each γ, and the
AUROC of the margin for telling wrong runs from right ones (0.5: no aim; 1: every wrong run above
every right one), beside the AUROC of the run's mean step m_t (a whole-run confidence, the signal
a confidence-weighted vote uses). On a CoT cell the gate is ruled on the trajectory MUR at that γ
would follow until its first scaled step; on a MUR cell, on the trajectory its scaling shaped.
Plain Python, no model call (`mur-graph report --gate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

from mur_graph.eval.gate_rates import GAMMAS
from mur_graph.eval.report import cell_key_label
from mur_graph.eval.stats import Z_95
from mur_graph.uncertainty import gate_fires


class SignalRow(TypedDict):
    """One cell's graded runs: how often the gate fires on the wrong and the right ones."""

    cell: str
    right: int
    wrong: int
    fires_wrong: tuple[float | None, ...]
    """Percent of the wrong runs on which the gate fires on at least one step, at each of `GAMMAS`."""
    fires_right: tuple[float | None, ...]
    """The same for the right runs."""
    margin_auroc: tuple[float, float, float] | None
    """AUROC of the largest gate margin for a wrong run, with its 95 % interval (None: no
    gated step, or only right or only wrong runs)."""
    mean_auroc: tuple[float, float, float] | None
    """AUROC of the mean step m_t for a wrong run, with its 95 % interval."""


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(a random positive scores above a random negative), ties counting one half.

    The Mann–Whitney U statistic over n₁·n₂. -inf is a valid score (below every finite one).

    Raises:
        ValueError: either group is empty.
    """
    if not positives or not negatives:
        msg = f"need both groups, got {len(positives)} positives and {len(negatives)} negatives"
        raise ValueError(msg)
    above = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return above / (len(positives) * len(negatives))


def auroc_interval(area: float, positives: int, negatives: int, z: float = Z_95) -> tuple[float, float]:
    """Hanley & McNeil's (1982) normal interval of an AUROC, clipped to [0, 1].

    SE² = (A(1−A) + (n₁−1)(Q₁−A²) + (n₂−1)(Q₂−A²)) / (n₁n₂), Q₁ = A/(2−A), Q₂ = 2A²/(1+A).
    """
    q1, q2 = area / (2 - area), 2 * area * area / (1 + area)
    variance = area * (1 - area) + (positives - 1) * (q1 - area * area) + (negatives - 1) * (q2 - area * area)
    half = z * math.sqrt(max(variance, 0.0) / (positives * negatives))
    return max(0.0, area - half), min(1.0, area + half)


def run_margin(document: Mapping[str, Any]) -> float | None:
    """A run's largest m_t − M_{t-1} over its gated steps (t ≥ 1); None when it recorded none."""
    margins = [
        step["uncertainty"] - step["momentum_before"]
        for step in document.get("steps", [])
        if step.get("index", 0) > 0
        and step.get("uncertainty") is not None
        and step.get("momentum_before") is not None
    ]
    return max(margins) if margins else None


def run_mean_uncertainty(document: Mapping[str, Any]) -> float | None:
    """The mean m_t of the steps a run kept; None when it recorded none."""
    kept = [
        step["kept_uncertainty"] if step.get("kept_uncertainty") is not None else step["uncertainty"]
        for step in document.get("steps", [])
        if step.get("uncertainty") is not None
    ]
    return sum(kept) / len(kept) if kept else None


def gate_signal(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[SignalRow]:
    """One row per cell (label → its records) with graded runs that recorded their steps' m_t."""
    rows: list[SignalRow] = []
    for label, records in cells.items():
        graded = [r for r in records if _graded(r)]
        wrong = [r["result"] for r in graded if not r["correct"]]
        right = [r["result"] for r in graded if r["correct"]]
        mean_wrong, mean_right = _present(wrong, run_mean_uncertainty), _present(right, run_mean_uncertainty)
        if not mean_wrong and not mean_right:
            continue  # records made before steps kept their m_t
        margins_wrong, margins_right = [run_margin(d) for d in wrong], [run_margin(d) for d in right]
        gated = any(m is not None for m in margins_wrong + margins_right)
        # A run with no gated step (one step; plain mode) never fires: its margin ranks lowest.
        margin_wrong = [-math.inf if m is None else m for m in margins_wrong]
        margin_right = [-math.inf if m is None else m for m in margins_right]
        rows.append(
            {
                "cell": label,
                "right": len(right),
                "wrong": len(wrong),
                "fires_wrong": tuple(_fired(wrong, g) if gated else None for g in GAMMAS),
                "fires_right": tuple(_fired(right, g) if gated else None for g in GAMMAS),
                "margin_auroc": _auroc(margin_wrong, margin_right) if gated else None,
                "mean_auroc": _auroc(mean_wrong, mean_right),
            }
        )
    return rows


def _present(
    documents: Sequence[Mapping[str, Any]], signal: Callable[[Mapping[str, Any]], float | None]
) -> list[float]:
    """`signal` of each document that has one."""
    return [value for d in documents if (value := signal(d)) is not None]


def _fired(documents: Sequence[Mapping[str, Any]], gamma: float) -> float | None:
    """Percent of runs on which the gate fires at `gamma` on at least one recorded step."""
    if not documents:
        return None
    return 100.0 * sum(_fires_somewhere(d, gamma) for d in documents) / len(documents)


def _fires_somewhere(document: Mapping[str, Any], gamma: float) -> bool:
    return any(
        gate_fires(step["index"], step["uncertainty"], step["momentum_before"], gamma)
        for step in document.get("steps", [])
        if step.get("uncertainty") is not None and step.get("momentum_before") is not None
    )


def _auroc(wrong: Sequence[float], right: Sequence[float]) -> tuple[float, float, float] | None:
    if not wrong or not right:
        return None
    area = auroc(wrong, right)
    return (area, *auroc_interval(area, len(wrong), len(right)))


def signal_table(rows: Sequence[SignalRow]) -> str:
    """The rows as a Markdown table; each γ column reads 'wrong runs % / right runs %'."""
    titles = ["cell", "runs (wrong)", "AUROC, gate margin", "AUROC, mean m_t"]
    titles += [f"fires at γ {gamma:g}: wrong / right %" for gamma in GAMMAS]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for row in rows:
        cells = [row["cell"], f"{row['right'] + row['wrong']} ({row['wrong']})"]
        cells += [_area(row["margin_auroc"]), _area(row["mean_auroc"])]
        cells += [
            "—" if w is None or r is None else f"{w:.0f} / {r:.0f}"
            for w, r in zip(row["fires_wrong"], row["fires_right"], strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _area(value: tuple[float, float, float] | None) -> str:
    return "—" if value is None else f"{value[0]:.2f} [{value[1]:.2f}, {value[2]:.2f}]"


class FiredRow(TypedDict):
    """A MUR cell against the CoT cell of its seed: what scaling did on the runs where it fired."""

    cell: str
    questions: int
    """Questions both cells answered and graded."""
    wrong_fired: int
    """Questions the CoT run got wrong on which the MUR run scaled at least one step."""
    fixed: int
    """Of those, the ones the MUR run got right."""
    right_fired: int
    """Questions the CoT run got right on which the MUR run scaled."""
    broken: int
    """Of those, the ones the MUR run got wrong."""
    differ_unfired: int
    """Questions where the MUR run never scaled and still differs from the CoT run: 0 when the two
    follow the same trajectory until the gate first fires (the same seed, sampling reproducible)."""
    redraw_fixes: float | None
    """What a fresh CoT run would fix on the `wrong_fired` questions: the sum over them of the share
    of the other seeds' CoT runs that are right (None without another seed holding each of them)."""
    redraw_breaks: float | None
    """What a fresh CoT run would break on the `right_fired` questions, the same way."""


def fired_effect(cells: Mapping[tuple[Any, ...], Mapping[str, Mapping[str, Any]]]) -> list[FiredRow]:
    """Each MUR cell (report cell key → its records by question id) against its seed's CoT cell.

    A MUR run follows its seed's CoT run step for step until its gate first fires, so every
    question on which the two differ is one where MUR scaled: the won/lost of the report's
    `vs CoT` column, split here by what the CoT run had and by how often the gate fired at all.
    The CoT cell shares the MUR cell's dataset, method, seed and variant, less the parts that
    only MUR has (`rd`, the draft reused as a candidate). The CoT cells of the other seeds are the
    null: a fresh CoT run of each question where the gate fired, which fixes or breaks as often as
    those runs are right or wrong. MUR's selection adds something only where it beats that.
    """
    cot: dict[tuple[Any, ...], dict[Any, Mapping[str, Mapping[str, Any]]]] = {}
    for (dataset, method, _critic, mode, _gamma, variant, seed), records in cells.items():
        if mode == "cot":
            cot.setdefault((dataset, method, variant), {})[seed] = records
    rows: list[FiredRow] = []
    for key, records in cells.items():
        dataset, method, _critic, mode, _gamma, variant, seed = key
        seeds = cot.get((dataset, method, tuple(part for part in variant if part != "rd")), {})
        baseline = seeds.get(seed)
        if mode != "mur" or baseline is None:
            continue
        others = [other for other_seed, other in seeds.items() if other_seed != seed]
        both = [q for q, run in records.items() if q in baseline and _graded(run) and _graded(baseline[q])]
        fired = {
            q: (bool(baseline[q]["correct"]), bool(records[q]["correct"]))
            for q in both
            if records[q]["result"].get("n_scaled", 0) > 0
        }
        unfired = [q for q in both if q not in fired]
        redraw = redraw_expectation(fired, others)
        rows.append(
            {
                "cell": cell_key_label(key),
                "questions": len(fired) + len(unfired),
                "wrong_fired": sum(not was for was, _ in fired.values()),
                "fixed": sum(now for was, now in fired.values() if not was),
                "right_fired": sum(was for was, _ in fired.values()),
                "broken": sum(not now for was, now in fired.values() if was),
                "differ_unfired": sum(
                    bool(baseline[q]["correct"]) != bool(records[q]["correct"]) for q in unfired
                ),
                "redraw_fixes": None if redraw is None else redraw[0],
                "redraw_breaks": None if redraw is None else redraw[1],
            }
        )
    return rows


def fired_table(rows: Sequence[FiredRow]) -> str:
    """The rows as a Markdown table."""
    titles = ["cell", "n", "CoT wrong: fired / fixed", "CoT right: fired / broken", "differ, never fired"]
    titles.append("a fresh CoT run: fixes / breaks")
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for row in rows:
        cells = [row["cell"], str(row["questions"])]
        cells += [f"{row['wrong_fired']} / {row['fixed']}", f"{row['right_fired']} / {row['broken']}"]
        cells.append(str(row["differ_unfired"]))
        fixes, breaks = row["redraw_fixes"], row["redraw_breaks"]
        cells.append("—" if fixes is None or breaks is None else f"{fixes:.1f} / {breaks:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def redraw_expectation(
    fired: Mapping[str, tuple[bool, bool]], others: Sequence[Mapping[str, Mapping[str, Any]]]
) -> tuple[float, float] | None:
    """(fixes, breaks) a fresh run of each fired question would make; None unless others hold each."""
    fixes = breaks = 0.0
    for q, (was, _) in fired.items():
        answers = [bool(other[q]["correct"]) for other in others if q in other and _graded(other[q])]
        if not answers:
            return None
        share_right = sum(answers) / len(answers)
        fixes += 0.0 if was else share_right
        breaks += (1.0 - share_right) if was else 0.0
    return fixes, breaks


def _graded(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "ok" and record.get("correct") is not None and bool(record.get("result"))
