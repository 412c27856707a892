"""Replay the `vote` critic on the candidates that results files already hold: no model call.

Every scaled step of guided search keeps its N candidates' texts and m_t, so how the `vote`
critic would choose among them can be measured on any run, whatever critic chose then:

    python benchmarks/replay_vote.py benchmarks/results/NAME/*per_step*.jsonl

prints, per file, the scaled steps, those where the votes single out a candidate (the rest fall
back to the lowest m_t), and those where the vote keeps another candidate than `confidence` would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.scaling.candidates import lowest_uncertainty
from mur_graph.scaling.critics import choose_by_vote, vote_counts
from mur_graph.state import FALLBACK_SELECTION


def replay(records: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(scaled steps with candidates, steps the vote decided, steps it kept another than confidence)."""
    steps = decided = other = 0
    for record in records:
        if record["status"] != "ok":
            continue
        for step in record["result"]["steps"]:
            candidates = step.get("candidates", [])
            if len(candidates) < 2:
                continue
            steps += 1
            scored = [{**c, "score": s} for c, s in zip(candidates, vote_counts(candidates), strict=True)]
            chosen, selection = choose_by_vote(scored)
            decided += selection != FALLBACK_SELECTION
            other += chosen != lowest_uncertainty(candidates)
    return steps, decided, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="results files (.jsonl)")
    args = parser.parse_args(argv)
    for path in args.files:
        steps, decided, other = replay(list(latest_by_id(read_records(path)).values()))
        share = f"{decided / steps:.0%}" if steps else "—"
        summary = f"the vote decided {decided} ({share}), {other} unlike confidence"
        print(f"{path.name}: {steps} scaled steps, {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
