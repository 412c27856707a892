r"""What the call cache saved on a results folder, and what it would save on runs made without it.

    python benchmarks/replay_savings.py benchmarks/results/paired_qwen2.5-coder-1.5b

Measured: for each cell whose records carry `replayed` (runs with --call-cache), the calls and
seconds replayed against the wall seconds charged; the model time spent is the difference.

Estimated: on the questions every given cell holds, the tokens the cells count against the tokens
a shared cache would have generated. A step's calls are keyed by the steps kept before it and the
call's kind (draft, candidates, fallback), as the cache keys them by prompt and seed; runs that
kept the same steps make the same calls. Critic calls are not counted (the confidence critic
makes none).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mur_graph.eval.report import collect, critic_label


def measured(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per cell file: questions, replayed calls and seconds, and wall seconds charged."""
    cells: dict[str, dict[str, float]] = {}
    for record in records:
        if record.get("status") != "ok" or "replayed" not in record:
            continue
        cell = cells.setdefault(_cell(record), {"questions": 0, "calls": 0, "replayed_s": 0.0, "wall_s": 0.0})
        cell["questions"] += 1
        cell["calls"] += record["replayed"]["calls"]
        cell["replayed_s"] += record["replayed"]["seconds"]
        cell["wall_s"] += record["wall_time_s"]
    return cells


def step_calls(steps: list[dict[str, Any]]) -> list[tuple[tuple[str, str], int]]:
    """The generating calls of one run as ((kept steps before, kind), tokens)."""
    calls = []
    kept = ""
    for step in steps:
        tokens = step["tokens"]
        if step["scaled"]:
            calls.append(((kept, "draft"), tokens["draft_discarded"]))
            calls.append(((kept, "candidates"), tokens["candidates"] + tokens["policy_step"]))
        else:
            calls.append(((kept, "draft"), tokens["policy_step"]))
        if tokens["fallback"]:
            calls.append(((kept, "fallback"), tokens["fallback"]))
        kept += step["text"] + "\n"
    return calls


def estimated(records: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """On the questions every cell holds: (cells, questions, tokens counted, tokens a shared cache makes)."""
    by_cell: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        if record.get("status") == "ok":
            by_cell.setdefault(_cell(record), {})[record["id"]] = record
    if not by_cell:
        return 0, 0, 0, 0
    common = set.intersection(*(set(ids) for ids in by_cell.values()))
    counted = generated = 0
    for question in common:
        seen: set[tuple[str, str]] = set()
        for cell in by_cell.values():
            for key, tokens in step_calls(cell[question]["result"]["steps"]):
                counted += tokens
                if key not in seen:
                    seen.add(key)
                    generated += tokens
    return len(by_cell), len(common), counted, generated


def _cell(record: dict[str, Any]) -> str:
    settings = record["settings"]
    critic = critic_label(settings)
    gamma = f" γ={settings['gamma']:g}" if settings["mode"] == "mur" else ""
    return " ".join([settings["method"], *([critic] if critic else []), settings["mode"]]) + gamma


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", type=Path, help="results folders or files")
    parser.add_argument("--estimate", action="store_true", help="also estimate on the common questions")
    args = parser.parse_args(argv)
    records = collect(args.paths)
    cells = measured(records)
    if not cells:
        print("no record carries `replayed`: these runs used no --call-cache")
    spent_all = wall_all = 0.0
    for name, cell in sorted(cells.items()):
        spent = cell["wall_s"] - cell["replayed_s"]
        spent_all += spent
        wall_all += cell["wall_s"]
        print(
            f"{name}: {cell['questions']:.0f} questions, {cell['calls']:.0f} calls replayed, "
            f"model time {spent:.0f} s of {cell['wall_s']:.0f} s charged ({spent / cell['wall_s']:.0%})"
        )
    if cells:
        print(f"all: model time {spent_all:.0f} s of {wall_all:.0f} s charged ({spent_all / wall_all:.0%})")
    if args.estimate:
        n_cells, questions, counted, generated = estimated(records)
        share = f"{generated / counted:.0%}" if counted else "—"
        print(
            f"estimate on the {questions} questions all {n_cells} cells hold: "
            f"{generated} of {counted} counted tokens generated with one shared cache ({share})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
