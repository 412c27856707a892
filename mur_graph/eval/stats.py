"""The report's statistics: Wilson intervals, exact McNemar tests, seed noise, and how much a critic decides.

Plain Python (math.comb): no scipy.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mur_graph.state import FALLBACK_SELECTION

Z_95 = 1.959963984540054
"""The standard normal quantile of 0.975."""


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `correct`/`n` (95 % by default), as fractions.

    (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), with p = correct/n.

    Raises:
        ValueError: n < 1, or `correct` outside [0, n].
    """
    if n < 1 or not 0 <= correct <= n:
        msg = f"need 0 <= correct <= n and n >= 1, got correct={correct}, n={n}"
        raise ValueError(msg)
    p = correct / n
    scale = 1 + z * z / n
    center = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    return max(0.0, center - half), min(1.0, center + half)


def mcnemar_exact(won: int, lost: int) -> float:
    """Two-sided exact McNemar p-value: a binomial(won + lost, 1/2) test on the discordant pairs.

    p = min(1, 2 · Σ_{k ≤ min(won, lost)} C(n, k) / 2ⁿ) with n = won + lost; 1 when n = 0.
    """
    if won < 0 or lost < 0:
        msg = f"discordant counts must be >= 0, got won={won}, lost={lost}"
        raise ValueError(msg)
    n = won + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(won, lost) + 1))
    return min(1.0, 2 * tail / 2**n)


def seed_sd(outcomes: Sequence[Mapping[str, bool]]) -> float | None:
    """The sd of a cell's accuracy from seed to seed, estimated question by question, in points.

    Each seed's run of question q is right with some probability p_q, independently across seeds,
    so one seed's accuracy over n questions varies with sd √(Σ_q p_q(1−p_q)) / n. With k seeds,
    p̂_q(1−p̂_q)·k/(k−1) estimates each p_q(1−p_q) without bias. This estimates the same sd as the
    sample sd of the k accuracies, far more steadily with few seeds: it reads every question's
    agreement, not k totals. Over the questions every seed holds; None for fewer than 2 seeds or
    no common question.
    """
    if len(outcomes) < 2:
        return None
    common = set(outcomes[0]).intersection(*outcomes[1:])
    if not common:
        return None
    k = len(outcomes)
    variance = 0.0
    for q in common:
        share = sum(o[q] for o in outcomes) / k
        variance += share * (1 - share) * k / (k - 1)
    return 100.0 * math.sqrt(variance) / len(common)


@dataclass(frozen=True)
class Paired:
    """A paired comparison of row A against row B on the questions both answered."""

    questions: int
    won: int
    """Questions A got right and B wrong."""
    lost: int
    """Questions A got wrong and B right."""

    @property
    def p_value(self) -> float:
        """The exact two-sided McNemar p-value."""
        return mcnemar_exact(self.won, self.lost)


def paired(a: Mapping[str, bool], b: Mapping[str, bool]) -> Paired:
    """Compare two rows' correctness by question id, on the ids both hold."""
    common = a.keys() & b.keys()
    won = sum(1 for q in common if a[q] and not b[q])
    lost = sum(1 for q in common if b[q] and not a[q])
    return Paired(len(common), won, lost)


@dataclass(frozen=True)
class CriticSignal:
    """How much a critic decided on the scaled steps of a set of runs."""

    steps: int
    """Scaled steps with candidates to choose from."""
    not_first: float | None
    """Fraction of them where the kept candidate is not candidate 0."""
    median_spread: float | None
    """Median over them of max − min of the readable scores (steps with at least two)."""
    fallback: float | None = None
    """Fraction of them kept by the lowest-m_t fallback because the critic's own rule could not
    decide (`FALLBACK_SELECTION`: no readable verdict, no two candidates agreeing)."""


def critic_signal(records: Iterable[Mapping[str, Any]]) -> CriticSignal:
    """How often the winner is not candidate 0, the median spread and the fallback's share.

    All three are over the scaled steps with candidates to choose from.
    `records` are results records (`mur-graph eval` lines with a `result`) or result documents;
    failed records are skipped. A critic that gives every candidate the same score has a spread
    of ≈0: its own rule carries no signal, and candidate 0 (generative) or the fallback (vote)
    decides.
    """
    chosen: list[int] = []
    spreads: list[float] = []
    fell_back = 0
    for record in records:
        if record.get("status", "ok") != "ok":
            continue
        document = record.get("result", record)
        for step in document.get("steps", []):
            if not step.get("scaled") or not step.get("candidates") or step.get("selected") is None:
                continue
            chosen.append(int(step["selected"]))
            fell_back += step.get("selection") == FALLBACK_SELECTION
            scores = [c["score"] for c in step["candidates"] if c.get("score") is not None]
            if len(scores) >= 2:
                spreads.append(max(scores) - min(scores))
    return CriticSignal(
        steps=len(chosen),
        not_first=sum(1 for i in chosen if i != 0) / len(chosen) if chosen else None,
        median_spread=statistics.median(spreads) if spreads else None,
        fallback=fell_back / len(chosen) if chosen else None,
    )


@dataclass(frozen=True)
class LineGap:
    """How far a row lies above the straight line between the CoT and per-step points."""

    questions: int
    """Questions all three rows answered: the line and the row are measured on these."""
    points: float
    """The row's accuracy minus the line's at the row's mean tokens, in percentage points."""


def line_gap(
    row: Mapping[str, tuple[bool, float]],
    cot: Mapping[str, tuple[bool, float]],
    per_step: Mapping[str, tuple[bool, float]],
) -> LineGap | None:
    """Compare a row with the CoT–per-step line on the questions all three answered.

    Each mapping holds (correct, total tokens) per question id. The line is the accuracy that
    spending the same tokens by mixing the two baselines would give. A row cheaper than CoT is
    measured against CoT's accuracy, one dearer than per-step against per-step's. None when the
    three share no question.
    """
    common = sorted(row.keys() & cot.keys() & per_step.keys())
    if not common:
        return None

    def point(cell: Mapping[str, tuple[bool, float]]) -> tuple[float, float]:
        right = sum(1 for q in common if cell[q][0])
        return sum(cell[q][1] for q in common) / len(common), 100.0 * right / len(common)

    (x, y), (x0, y0), (x1, y1) = point(row), point(cot), point(per_step)
    if x1 == x0:
        line = max(y0, y1)
    else:
        share = min(1.0, max(0.0, (x - x0) / (x1 - x0)))
        line = y0 + share * (y1 - y0)
    return LineGap(len(common), y - line)
