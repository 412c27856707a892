"""Repeated runs of one cell under different seeds: self-consistency rows and the spread across seeds.

Self-consistency (SC@k) answers each question with the majority answer of k runs of a cell
(CoT or plain; MUR's too, to see whether its gains and voting's add up) — the k smallest seeds —
and charges the tokens of all k. Answers are grouped
by mathematical equality (`grading.math_equal`, math-verify), a run without an answer does not
vote, and a tie goes to the group whose runs were surer: the lower mean m_t (mean of the runs'
step uncertainties). The weighted variant adds exp(−m̄) per run instead of 1, so a confident run
counts more. A question is answered correctly when the chosen group's surest run was graded
correct.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mur_graph.eval.grading import math_equal

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Vote:
    """The outcome of one question's vote."""

    correct: bool
    tokens: int
    seconds: float
    policy_tokens: int
    critic_tokens: int


def mean_uncertainty(record: Record) -> float:
    """m̄ of a run: the mean m_t of its kept steps (∞ for a run with none)."""
    values = [
        step["kept_uncertainty"] if step.get("kept_uncertainty") is not None else step["uncertainty"]
        for step in record["result"]["steps"]
    ]
    return statistics.fmean(values) if values else math.inf


def vote(runs: Sequence[Record], *, weighted: bool = False) -> Vote:
    """The majority answer of `runs` (one question, k seeds): its correctness and the k runs' cost."""
    groups: list[list[Record]] = []
    for run in runs:
        answer = run.get("answer")
        if answer is None or not str(answer).strip():
            continue
        for group in groups:
            if group[0]["answer"] == answer or math_equal(group[0]["answer"], answer):
                group.append(run)
                break
        else:
            groups.append([run])

    def strength(group: list[Record]) -> tuple[float, float]:
        sureness = [mean_uncertainty(r) for r in group]
        weight = sum(math.exp(-m) for m in sureness) if weighted else float(len(group))
        return weight, -statistics.fmean(sureness)

    correct = False
    if groups:
        best = max(groups, key=strength)
        correct = bool(min(best, key=mean_uncertainty)["correct"])
    totals = [r["result"]["totals"] for r in runs]
    return Vote(
        correct=correct,
        tokens=sum(t["total"] for t in totals),
        seconds=sum(float(r["wall_time_s"]) for r in runs),
        policy_tokens=sum(t["policy"] for t in totals),
        critic_tokens=sum(t["critic"] for t in totals),
    )


def consistency_votes(
    by_seed: Mapping[int, Mapping[str, Record]], k: int, *, weighted: bool = False
) -> dict[str, Vote] | None:
    """SC@k per question over the k smallest seeds, on the questions all k answered; None if < k seeds."""
    seeds = sorted(by_seed)[:k]
    if len(seeds) < k:
        return None
    cells = [{qid: r for qid, r in by_seed[seed].items() if r["status"] == "ok"} for seed in seeds]
    shared = set.intersection(*(set(cell) for cell in cells))
    return {qid: vote([cell[qid] for cell in cells], weighted=weighted) for qid in sorted(shared)}


@dataclass(frozen=True)
class SeedSpread:
    """One cell's accuracy across its seeds."""

    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    """Percent, in seed order."""
    tokens: float
    """Mean total tokens per question, over all seeds."""

    @property
    def mean(self) -> float:
        """Mean accuracy over the seeds, percent."""
        return statistics.fmean(self.accuracies)

    @property
    def stdev(self) -> float:
        """Sample standard deviation over the seeds, points (0 for one seed)."""
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0

    @property
    def spread(self) -> float:
        """Max − min, in points."""
        return max(self.accuracies) - min(self.accuracies)
