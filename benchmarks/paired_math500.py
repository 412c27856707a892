r"""Paired MATH-500 runs: CoT, per-step and MUR for each critic kind, question by question, resumable.

For every question (MATH-500 levels 1–2 of the first 400 records by default), the script runs
each cell — `cot`, then `per_step` and `mur` (the paper's γ) for each critic kind of guided
search, and the same three modes for each other method asked for — before it moves on to the
next question, all with the same seed. A run stopped at any point is therefore still paired:
every cell holds the same questions, give or take the one in flight. Each cell is an ordinary
`mur-graph eval` results file (one fsync'd JSON line per question) under
`benchmarks/results/NAME/`; running the same command again skips what is done and retries what
failed. At the end it prints `mur-graph report` of the folder (and writes its report.md).

    PYTHONPATH=. python benchmarks/paired_math500.py --model qwen2.5-coder-1.5b \
        --data ../shared/mur_data --name qwen2.5-coder-1.5b --seed 0

The data path can also come from $MUR_DATA (a folder holding math_500_test.json, or the file).
Every `mur-graph eval` setting (--max-steps, --calculator, --alpha, --candidates, --base-url, …)
is accepted and applies to all cells; --methods critic,phi --limit 50 runs the other methods on
the first 50 of the same questions; --modes plain runs the model plainly (its chat template, one
call), --temperature 0 greedy, --draft-temperature 0 greedy drafts, --seed S another seed (each
lands in a file of its own). With --call-cache FILE, a call that another cell (or another
process sharing FILE) already made is replayed: the γ cells of one question share every step
before their gates first disagree. --skip S leaves out the first S questions (they keep their
numbers, and a later run without --skip fills them in): a cell can run first on the questions
whose calls the cache already holds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from mur_graph.cli import main as mur_graph_main
from mur_graph.cli.options import (
    UsageError,
    add_call_cache_option,
    add_model_options,
    add_settings_options,
    call_cache_from_args,
    config_from_args,
)
from mur_graph.config import MURConfig
from mur_graph.eval.problems import Problem, load_problems, parse_levels
from mur_graph.eval.results import ResultsFile, results_name
from mur_graph.eval.runner import run_eval
from mur_graph.scaling import canonical_method, critic_kinds

RESULTS = Path(__file__).resolve().parent / "results"
DATA_FILE = "math_500_test.json"
DATASET = "math_500"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The runner's own options, plus every `mur-graph eval` setting and model option."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("MUR_DATA"), help="MATH-500 file or its folder")
    parser.add_argument("--name", help="results folder under benchmarks/results/ (default: the model)")
    parser.add_argument("--out", type=Path, help="results folder (overrides --name)")
    parser.add_argument("--level", default="1,2", help="MATH levels, e.g. 1,2 or 1-5 (default 1,2)")
    parser.add_argument("--records", type=int, default=400, help="first R records only (default 400)")
    parser.add_argument("--limit", type=int, help="the first K questions of those only")
    parser.add_argument(
        "--skip",
        type=int,
        default=0,
        help="leave out the first S questions (with --limit K: questions S+1 to K), e.g. to run "
        "first the questions whose calls another cell already cached",
    )
    parser.add_argument("--methods", default="guided_search", help="comma-separated methods")
    parser.add_argument("--critic-kinds", default="generative,confidence,vote", help="guided search's")
    parser.add_argument("--modes", default="cot,per_step,mur", help="comma-separated modes")
    add_settings_options(parser, mode=False, gamma=False)
    gammas = parser.add_mutually_exclusive_group()
    gammas.add_argument("--gamma", type=float, help="MUR's γ (default: the paper's per method)")
    gammas.add_argument(
        "--gammas",
        help="comma-separated γ values: one MUR cell per γ and critic kind (the γ curve of mur-graph sweep)",
    )
    add_model_options(parser)
    add_call_cache_option(parser)
    parser.set_defaults(seed=0)
    return parser.parse_args(argv)


def cell_configs(args: argparse.Namespace) -> list[tuple[str, MURConfig]]:
    """Every cell (its method and settings), in the order one question visits them."""
    kinds = _names(args.critic_kinds)
    modes = _names(args.modes)
    try:
        gammas: list[float | None] = [float(g) for g in _names(args.gammas or "")] or [args.gamma]
    except ValueError as exc:
        msg = f"--gammas must be comma-separated numbers, got {args.gammas!r}"
        raise UsageError(msg) from exc
    unknown = sorted(set(kinds) - set(critic_kinds()))
    if unknown:
        msg = f"unknown critic kinds {unknown}; registered: {', '.join(critic_kinds())}"
        raise UsageError(msg)
    configs: list[tuple[str, MURConfig]] = []
    for method in _names(args.methods):
        guided = canonical_method(method) == "guided_search"  # an unknown method fails here
        per_method = argparse.Namespace(**{**vars(args), "method": method})
        for mode in modes:
            # CoT and plain never ask a critic, and only guided search has critic kinds: one cell each.
            for kind in kinds if guided and mode not in ("cot", "plain") else ["generative"]:
                for gamma in gammas if mode == "mur" else [None]:
                    chosen = {} if gamma is None else {"gamma": gamma}
                    config = config_from_args(per_method, mode=mode, critic_kind=kind, **chosen)
                    configs.append((method, config))
    return configs


def load_questions(args: argparse.Namespace) -> list[Problem]:
    """MATH-500 problems of the chosen levels among the first records."""
    if not args.data:
        msg = "pass --data (the MATH-500 file or its folder) or set $MUR_DATA"
        raise UsageError(msg)
    path = Path(args.data).expanduser()
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        msg = f"{path}: no such file; pass --data the MATH-500 file ({DATA_FILE}) or the folder holding it"
        raise UsageError(msg)
    problems, _ = load_problems(
        str(path), levels=parse_levels(args.level), records=args.records, limit=args.limit
    )
    if not problems:
        msg = f"no question of levels {args.level} among the first {args.records} records of {path}"
        raise UsageError(msg)
    if not 0 <= args.skip < len(problems):
        count = len(problems)
        msg = f"--skip must be between 0 and {count - 1} (there are {count} questions), got {args.skip}"
        raise UsageError(msg)
    return problems


async def run_paired(
    problems: list[Problem],
    cells: list[tuple[str, MURConfig, Any, ResultsFile]],
    names: tuple[str, str],
    *,
    skip: int = 0,
) -> None:
    """Run every cell on one question before the next question; print a line per question.

    The first `skip` questions are left out; the others keep their numbers among all.
    """
    for number, problem in enumerate(problems[skip:], skip + 1):
        marks = []
        for method, config, graph, results in cells:
            tally = await run_eval(
                [problem],
                graph,
                config,
                results,
                dataset=DATASET,
                policy_name=names[0],
                critic_name=names[1],
            )
            if tally.skipped:
                marks.append(f"{_short(method, config)}=done")
                continue
            record = tally.records[-1]
            if record["status"] != "ok":
                marks.append(f"{_short(method, config)}=FAILED")
                continue
            total = record["result"]["totals"]["total"]
            marks.append(f"{_short(method, config)}={'✓' if record['correct'] else '✗'}{total}t")
        print(f"[{number}/{len(problems)}] {problem.id}: {' '.join(marks)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from mur_graph.cli.options import load_models
    from mur_graph.graph import create_mur_graph

    try:
        configs = cell_configs(args)
        problems = load_questions(args)
    except (UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or RESULTS / (args.name or (args.model or "smollm2").replace("/", "__"))
    skipped = f" (from question {args.skip + 1})" if args.skip else ""
    print(f"{len(problems)} questions{skipped} × {len(configs)} cells → {out}", flush=True)
    policy, critic, policy_name, critic_name = load_models(args)
    with ExitStack() as stack:
        try:
            stack.enter_context(call_cache_from_args(args))
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        cells = []
        for method, config in configs:
            graph = create_mur_graph(policy, method=method, critic=critic, config=config)
            settings = graph.settings_record(config)
            results = stack.enter_context(ResultsFile(out / results_name(DATASET, settings)))
            try:  # a file made with other settings is refused here, before any run
                results.finished_ids(settings)
            except ValueError as exc:
                print(f"error: {exc} (or --name), or pass that run's settings", file=sys.stderr)
                return 2
            cells.append((method, config, graph, results))
        asyncio.run(run_paired(problems, cells, (policy_name, critic_name), skip=args.skip))
    return mur_graph_main(["report", str(out)])


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _short(method: str, config: MURConfig) -> str:
    kind = "" if config.mode == "cot" or config.critic_kind == "generative" else f"/{config.critic_kind}"
    gamma = f"@{config.gamma:g}" if config.mode == "mur" else ""
    return f"{method}{kind}/{config.mode}{gamma}"


if __name__ == "__main__":
    sys.exit(main())
