"""`mur-graph study`: the paired MATH-500 study (CoT, per-step, MUR, plain), resumable."""

from __future__ import annotations

import argparse
import asyncio
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from mur_graph.cli.options import (
    UsageError,
    add_call_cache_option,
    add_model_options,
    add_settings_options,
    check_run_options,
    config_from_args,
    gammas_from_text,
    load_models,
    method_settings_from_args,
)
from mur_graph.config import MURConfig
from mur_graph.scaling import canonical_method, critic_kinds

DESCRIPTION = (
    "Run MATH-500 question by question through every cell — CoT, then per-step and MUR for each "
    "critic kind of guided search (and the same modes for each other method asked for), plain "
    "with --modes plain — before moving to the next question, all with the same seed, so a study "
    "stopped at any point is still paired. Each cell is an ordinary `mur-graph eval` results file "
    "under --out; the same command again resumes. Every `mur-graph eval` setting applies to all "
    "cells. At the end it prints `mur-graph report` of the folder."
)


def add_study_command(commands: Any) -> None:
    """Add `study` to the `mur-graph` subcommands."""
    study = commands.add_parser(
        "study",
        help="paired MATH-500 runs of CoT, per-step, MUR and plain cells; resumable",
        description=DESCRIPTION,
    )
    study.add_argument(
        "--data",
        default=os.environ.get("MUR_DATA"),
        help="the MATH-500 file or its folder (default: $MUR_DATA)",
    )
    study.add_argument("--out", type=Path, required=True, help="results folder (one file per cell)")
    study.add_argument("--level", default="1,2", help="MATH levels, e.g. 1,2 or 1-5 (default 1,2)")
    study.add_argument("--records", type=int, default=400, help="the first R records only (default 400)")
    study.add_argument("--limit", type=int, help="the first K questions of those only")
    study.add_argument(
        "--skip",
        type=int,
        default=0,
        help="leave out the first S questions (with --limit K: questions S+1 to K), e.g. to run "
        "first the questions whose calls another cell already cached; a later run fills them in",
    )
    study.add_argument("--methods", default="guided_search", help="comma-separated scaling methods")
    study.add_argument(
        "--critic-kinds",
        default="generative,confidence,vote",
        help="guided search's critic kinds, comma-separated",
    )
    study.add_argument(
        "--modes", default="cot,per_step,mur", help="comma-separated modes (cot, per_step, mur, plain)"
    )
    add_settings_options(study, mode=False, gamma=False)
    gammas = study.add_mutually_exclusive_group()
    gammas.add_argument("--gamma", type=float, help="MUR's γ (default: the paper's per method)")
    gammas.add_argument(
        "--gammas", help="comma-separated γ values: one MUR cell per γ and critic kind (the γ curve)"
    )
    add_model_options(study)
    add_call_cache_option(study)
    study.set_defaults(seed=0, handler=_study)


def cell_configs(args: argparse.Namespace) -> list[tuple[str, dict[str, Any], MURConfig]]:
    """Every cell (its method, the method's own settings, the run's), in the order a question visits them.

    Raises:
        UsageError: an unknown critic kind, method or mode, or a malformed --gammas.
    """
    kinds, methods, modes = _names(args.critic_kinds), _names(args.methods), _names(args.modes)
    for flag, names in (("--critic-kinds", kinds), ("--methods", methods), ("--modes", modes)):
        if not names:
            msg = f"{flag} names nothing; give comma-separated names or leave the option out"
            raise UsageError(msg)
    gammas: list[float | None] = [*gammas_from_text(args.gammas or "")] or [args.gamma]
    unknown = sorted(set(kinds) - set(critic_kinds()))
    if unknown:
        msg = f"unknown critic kinds {unknown}; registered: {', '.join(critic_kinds())}"
        raise UsageError(msg)
    configs: list[tuple[str, dict[str, Any], MURConfig]] = []
    for method in methods:
        try:
            guided = canonical_method(method) == "guided_search"
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        for mode in modes:
            # CoT and plain never ask a critic, and only guided search has critic kinds: one cell each.
            for kind in kinds if guided and mode not in ("cot", "plain") else [None]:
                cell = argparse.Namespace(**{**vars(args), "method": method, "critic_kind": kind})
                own = method_settings_from_args(cell, method, mode=mode)
                for gamma in gammas if mode == "mur" else [None]:
                    chosen = {} if gamma is None else {"gamma": gamma}
                    configs.append((method, own, config_from_args(cell, mode=mode, **chosen)))
    return configs


def _study(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.cli.eval import report_folder
    from mur_graph.eval.results import ResultsFile, results_name
    from mur_graph.eval.study import DATASET, StudyCell, math500_questions, run_study
    from mur_graph.graph import create_mur_graph

    check_run_options(args)
    configs = cell_configs(args)
    if not args.data:
        msg = "pass --data (the MATH-500 file or its folder) or set $MUR_DATA"
        raise UsageError(msg)
    try:
        problems = math500_questions(args.data, levels=args.level, records=args.records, limit=args.limit)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not 0 <= args.skip < len(problems):
        count = len(problems)
        msg = f"--skip must be between 0 and {count - 1} (there are {count} questions), got {args.skip}"
        raise UsageError(msg)
    skipped = f" (from question {args.skip + 1})" if args.skip else ""
    print(f"{len(problems)} questions{skipped} × {len(configs)} cells → {args.out}", flush=True)
    policy, critic, policy_name, critic_name = load_models(args)
    with ExitStack() as stack:
        cells = []
        for method, own, config in configs:
            graph = create_mur_graph(policy, method=method, method_settings=own, critic=critic, config=config)
            settings = graph.settings_record(config)
            results = stack.enter_context(ResultsFile(args.out / results_name(DATASET, settings)))
            try:  # a file made with other settings is refused here, before any run
                results.finished_ids(settings)
            except ValueError as exc:
                msg = f"{exc}, or pass that run's settings"
                raise UsageError(msg) from exc
            cells.append(StudyCell(method, config, graph, results))
        asyncio.run(run_study(problems, cells, (policy_name, critic_name), skip=args.skip, report=_line))
    return report_folder(args.out, err)


def _line(text: str) -> None:
    print(text, flush=True)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
