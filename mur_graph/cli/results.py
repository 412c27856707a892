"""`mur-graph compare` and `mur-graph replay`: what results files show, without a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from mur_graph.cli.options import UsageError


def add_results_commands(commands: Any) -> None:
    """Add `compare` and `replay` (vote, savings) to the `mur-graph` subcommands."""
    compare = commands.add_parser(
        "compare",
        help="pair two folders' same cells (or two results files) question by question",
        description=(
            "For each cell both folders hold (a cell is its file name without the arm's __bc and "
            "__calc suffixes), the questions both answered, how often B was right where A was "
            "wrong (won) and the reverse (lost), with the exact McNemar p-value; then the sums. "
            "Given two results files, it pairs those two."
        ),
    )
    compare.add_argument("a", type=Path, help="the baseline folder (or results file)")
    compare.add_argument("b", type=Path, help="the folder (or file) compared with it")
    compare.set_defaults(handler=_compare)

    replay = commands.add_parser("replay", help="replay stored results: the vote critic, the call cache")
    what = replay.add_subparsers(dest="replayed", required=True)
    vote = what.add_parser(
        "vote",
        help="how the vote critic would choose among each scaled step's stored candidates",
        description=(
            "Per file: the scaled steps, those where the votes single out a candidate (the rest fall "
            "back to the lowest m_t), and those where the vote keeps another candidate than the "
            "confidence critic would. No model call."
        ),
    )
    vote.add_argument("files", nargs="+", type=Path, help="results files (.jsonl)")
    vote.set_defaults(handler=_replay_vote)
    savings = what.add_parser(
        "savings",
        help="what the call cache saved, and what it would save on runs made without it",
        description=(
            "Measured: per cell whose records carry `replayed` (runs with --call-cache), the calls "
            "and seconds replayed against the wall seconds charged. With --estimate, on the questions "
            "every cell holds: the tokens the cells count against the tokens one shared cache would "
            "have generated (critic calls not counted)."
        ),
    )
    savings.add_argument("paths", nargs="+", type=Path, help="results folders or files")
    savings.add_argument("--estimate", action="store_true", help="also estimate on the common questions")
    savings.set_defaults(handler=_replay_savings)


def _compare(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.eval.compare import AmbiguousCellError, compare

    _check_exist([args.a, args.b])
    if args.a.is_file() != args.b.is_file():
        msg = f"give two folders or two results files, not one of each: {args.a}, {args.b}"
        raise UsageError(msg)
    try:
        pairs = compare(args.a, args.b)
    except AmbiguousCellError as exc:
        raise UsageError(str(exc)) from exc
    if not pairs:
        msg = f"no results cell is in both {args.a} and {args.b}; give two folders of the same cells"
        raise UsageError(msg)
    for name, result in pairs:
        won, lost, p = result.won, result.lost, result.p_value
        print(f"{name}: {result.questions} questions, B won {won}, lost {lost} (p={p:.2g})")
    if len(pairs) > 1:
        won, lost = sum(r.won for _, r in pairs), sum(r.lost for _, r in pairs)
        print(f"all: {sum(r.questions for _, r in pairs)} pairs, B won {won}, lost {lost}")
    return 0


def _replay_vote(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.eval.replay import replay_vote
    from mur_graph.eval.results import latest_by_id, read_records

    _check_exist(args.files)
    for path in args.files:
        steps, decided, other = replay_vote(latest_by_id(read_records(path)).values())
        share = f"{decided / steps:.0%}" if steps else "—"
        decisions = f"the vote decided {decided} ({share}), {other} unlike confidence"
        print(f"{path.name}: {steps} scaled steps, {decisions}")
    return 0


def _replay_savings(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.eval.replay import estimated_savings, measured_savings
    from mur_graph.eval.report import collect

    _check_exist(args.paths)
    records = collect(args.paths)
    cells = measured_savings(records)
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
        n_cells, questions, counted, generated = estimated_savings(records)
        share = f"{generated / counted:.0%}" if counted else "—"
        print(
            f"estimate on the {questions} questions all {n_cells} cells hold: "
            f"{generated} of {counted} counted tokens generated with one shared cache ({share})"
        )
    return 0


def _check_exist(paths: list[Path]) -> None:
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        msg = f"no such folder or file: {', '.join(missing)}"
        raise UsageError(msg)
