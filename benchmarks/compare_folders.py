"""Pair two results folders cell by cell: the same file name in each, compared question by question.

For a setting a results file cannot hold twice (the calculator on vs off, another model), run the
same cells into two folders, then:

    python benchmarks/compare_folders.py benchmarks/results/A benchmarks/results/B

prints, per file name both folders hold, the questions both answered and how often B was right
where A was wrong (won) and the reverse (lost), with the exact McNemar p-value, then the sums
(no p-value: the cells share questions, so their pairs are not independent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.eval.stats import Paired, paired


def correctness(path: Path) -> dict[str, bool]:
    """Question id → answered correctly, over the file's answered (status ok) questions."""
    records = latest_by_id(read_records(path)).values()
    return {str(r["id"]): bool(r["correct"]) for r in records if r["status"] == "ok"}


def compare(a: Path, b: Path) -> list[tuple[str, Paired]]:
    """(file name, B against A) for every results file name both folders hold."""
    names = sorted({p.name for p in a.glob("*.jsonl")} & {p.name for p in b.glob("*.jsonl")})
    return [(name, paired(correctness(b / name), correctness(a / name))) for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="the baseline folder")
    parser.add_argument("b", type=Path, help="the folder compared with it")
    args = parser.parse_args(argv)
    pairs = compare(args.a, args.b)
    if not pairs:
        print(f"no results file name is in both {args.a} and {args.b}", file=sys.stderr)
        return 2
    for name, result in pairs:
        won, lost, p = result.won, result.lost, result.p_value
        print(f"{name}: {result.questions} questions, B won {won}, lost {lost} (p={p:.2g})")
    won, lost = sum(r.won for _, r in pairs), sum(r.lost for _, r in pairs)
    print(f"all: {sum(r.questions for _, r in pairs)} pairs, B won {won}, lost {lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
