r"""Where a step-format run's text first departs from the plain model's, question by question.

Greedy and never scaled, a `natural`-format CoT run asks the model for the same solution as plain
mode, a paragraph at a time; whatever differs comes from the step machinery. This reads two
results files of the same questions (a `plain` cell and a CoT cell, both greedy), finds the first
character where each question's solutions differ, and sorts it by where it falls in the CoT run:

- `identical`: the same text;
- `leading whitespace`: at a paragraph's start, where the plain text has whitespace the step
  lacks (steps used to be stripped: "\n\n   Therefore" became "\n\nTherefore");
- `at a cut`: where a step cut at its token limit ends, or just after (a blank line used to be
  written there, into the middle of the paragraph);
- `paragraph start`: the first token of a step after one that ended normally;
- `inside a step`: anywhere else. The plain model decodes every token one at a time; the step
  runs encode the kept steps again as prompt chunks, which round differently (docs/models.md,
  "Prefix reuse"), so near-ties between two tokens can go either way.

For each class it counts the questions and how often each run alone was right:

    PYTHONPATH=. python benchmarks/checks/format_divergence.py \
        --plain R/math_500__guided_search__plain__T0.jsonl \
        --steps R/math_500__guided_search__cot__dT0__fnatural.jsonl --name natural_cot_greedy_at_52a054d
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, table, write

CLASSES = ("identical", "leading whitespace", "at a cut", "paragraph start", "inside a step")
SEPARATOR = "\n\n"
"""What the natural format writes between two steps that ended normally."""
NEAR = 2
"""Characters into a step within which a divergence counts as at its start."""


def load(path: Path) -> dict[str, dict[str, Any]]:
    """The ok records of a results file, by question id."""
    records = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {r["id"]: r for r in records if r.get("status") == "ok"}


def first_difference(a: str, b: str) -> int | None:
    """The first index where `a` and `b` differ, or None when they are equal."""
    if a == b:
        return None
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def step_starts(steps: Sequence[Mapping[str, Any]]) -> list[int]:
    """Where each step's text starts in the solution: a blank line after each, none after a cut one."""
    starts, at = [], 0
    for step in steps:
        starts.append(at)
        at += len(step["text"]) + (0 if step.get("cut") else len(SEPARATOR))
    return starts


def classify(plain: str, steps: Sequence[Mapping[str, Any]], solution: str) -> str:
    """The class of the first difference between the plain text and a step run's solution."""
    at = first_difference(plain, solution)
    if at is None:
        return "identical"
    starts = step_starts(steps)
    index = max(i for i, start in enumerate(starts) if start <= at) if steps else 0
    into = at - starts[index] if steps else at
    if steps and _at_a_cut(steps, index, into):
        return "at a cut"
    if into == 0 and plain[at : at + 1].isspace():
        return "leading whitespace"
    if into == 0:
        return "paragraph start"
    return "inside a step"


def _at_a_cut(steps: Sequence[Mapping[str, Any]], index: int, into: int) -> bool:
    """Whether `into` characters into step `index` lie where a blank line was written after a cut.

    Records from before the `cut` key always had a blank line after a step cut at its limit.
    """

    def broken(step: Mapping[str, Any]) -> bool:
        return step.get("draft_finish_reason") == "length" and not step.get("cut", False)

    if broken(steps[index]) and into >= len(steps[index]["text"]) - NEAR:
        return True
    return index > 0 and broken(steps[index - 1]) and into <= NEAR


def tabulate(
    plain: Mapping[str, Mapping[str, Any]], steps: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per class: questions, both right, plain alone right, the step run alone right."""
    counts: Counter[tuple[str, str]] = Counter()
    for question in plain.keys() & steps.keys():
        result = steps[question]["result"]
        kind = classify(plain[question]["result"]["solution"], result["steps"], result["solution"])
        right = (plain[question]["correct"], steps[question]["correct"])
        outcome = {(True, True): "both", (True, False): "plain only", (False, True): "steps only"}.get(
            right, "neither"
        )
        counts[kind, outcome] += 1
        counts[kind, "questions"] += 1
    return [
        {"where": kind, **{k: counts[kind, k] for k in ("questions", "both", "plain only", "steps only")}}
        for kind in CLASSES
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plain", type=Path, required=True, help="the plain cell's results file")
    parser.add_argument("--steps", type=Path, required=True, help="the step-format cell's results file")
    parser.add_argument("--name", required=True, help="the output's name (JSON and Markdown)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "format_divergence")
    args = parser.parse_args(argv)
    plain, steps = load(args.plain), load(args.steps)
    rows = tabulate(plain, steps)
    columns = ["where", "questions", "both", "plain only", "steps only"]
    title = f"First difference from the plain model: `{args.steps.name}` against `{args.plain.name}`\n\n"
    payload = {
        "plain": args.plain.name,
        "steps": args.steps.name,
        "questions": len(plain.keys() & steps.keys()),
    }
    write(args.name, {**payload, "rows": rows}, title + table(rows, columns), out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
