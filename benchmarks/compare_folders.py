"""Pair two results folders cell by cell: the same cell in each, compared question by question.

For two arms of one comparison (another model, the calculator on vs off), run the same cells into
two folders, then:

    python benchmarks/compare_folders.py benchmarks/results/A benchmarks/results/B

prints, per cell both folders hold, the questions both answered and how often B was right
where A was wrong (won) and the reverse (lost), with the exact McNemar p-value, then the sums
(no p-value: the cells share questions, so their pairs are not independent). A cell is its file
name without the variant suffixes (`__bc`, `__calc`), so an arm run with `--calculator` pairs
with the same cells run without it.

Given two results files instead of two folders, it pairs those two, e.g. two critic kinds'
per-step cells of one run:

    python benchmarks/compare_folders.py R/X__confidence__per_step.jsonl R/X__vote__per_step.jsonl
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


VARIANT_SUFFIXES = ("__calc", "__bc")  # the order results_name appends them in, reversed


class AmbiguousCellError(ValueError):
    """A folder holds two variants of one cell, so which to pair is not clear."""


def cell_of(name: str) -> str:
    """The cell a results file name holds, without its variant suffixes."""
    stem = name.removesuffix(".jsonl")
    for suffix in VARIANT_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem + ".jsonl"


def cells(folder: Path) -> dict[str, Path]:
    """Cell → results file of a folder.

    Raises:
        AmbiguousCellError: the folder holds one cell in two variants.
    """
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.jsonl")):
        cell = cell_of(path.name)
        if cell in found:
            msg = (
                f"{folder} holds {found[cell].name} and {path.name}, two variants of one cell; "
                "compare folders that hold one variant each (or use mur-graph report on the folder)"
            )
            raise AmbiguousCellError(msg)
        found[cell] = path
    return found


def compare(a: Path, b: Path) -> list[tuple[str, Paired]]:
    """(cell, B against A) for every cell both folders hold, or for the two files given."""
    if a.is_file() and b.is_file():
        return [(f"{b.name} against {a.name}", paired(correctness(b), correctness(a)))]
    in_a, in_b = cells(a), cells(b)
    shared = sorted(in_a.keys() & in_b.keys())
    return [(cell, paired(correctness(in_b[cell]), correctness(in_a[cell]))) for cell in shared]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="the baseline folder (or results file)")
    parser.add_argument("b", type=Path, help="the folder (or file) compared with it")
    args = parser.parse_args(argv)
    missing = [str(path) for path in (args.a, args.b) if not path.exists()]
    if missing:
        print(f"error: no such folder or file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.a.is_file() != args.b.is_file():
        msg = f"give two folders or two results files, not one of each: {args.a}, {args.b}"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    try:
        pairs = compare(args.a, args.b)
    except AmbiguousCellError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not pairs:
        print(f"no results cell is in both {args.a} and {args.b}", file=sys.stderr)
        return 2
    for name, result in pairs:
        won, lost, p = result.won, result.lost, result.p_value
        print(f"{name}: {result.questions} questions, B won {won}, lost {lost} (p={p:.2g})")
    if len(pairs) == 1:
        return 0
    won, lost = sum(r.won for _, r in pairs), sum(r.lost for _, r in pairs)
    print(f"all: {sum(r.questions for _, r in pairs)} pairs, B won {won}, lost {lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
