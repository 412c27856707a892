"""`mur-graph eval | report | sweep | calibrate`: run, tabulate and plot the paper's comparison."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

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
from mur_graph.config import MURConfig, settings_record
from mur_graph.eval.problems import Problem, load_problems, parse_levels
from mur_graph.eval.report import (
    COLUMNS,
    ReportRow,
    cell_key_label,
    cell_records,
    collect,
    critic_label,
    format_cell,
    markdown_table,
    report_markdown,
    seed_spreads,
    spread_table,
    summarise,
    variant_of,
)
from mur_graph.eval.results import ResultsFile, dataset_label, results_name
from mur_graph.scaling import canonical_method

DEFAULT_GAMMAS = "0.5,0.7,0.8,0.9,0.95"
Quantity = Literal["total_tokens", "scale_rate"]
"""The row column that `mur-graph calibrate` aims at a target."""


def add_eval_commands(commands: Any) -> None:
    """Add `eval`, `report`, `sweep` and `calibrate` to the `mur-graph` subcommands."""
    run = commands.add_parser("eval", help="evaluate MUR on a dataset; resumable")
    _add_data_options(run)
    add_settings_options(run)
    add_model_options(run)
    add_call_cache_option(run)
    run.set_defaults(handler=_eval)

    report = commands.add_parser("report", help="tabulate results like the paper")
    _add_report_arguments(report)

    sweep = commands.add_parser("sweep", help="run MUR over several γ plus CoT and per-step; plot")
    _add_data_options(sweep)
    sweep.add_argument(
        "--gammas", default=DEFAULT_GAMMAS, help=f"comma-separated γ values ({DEFAULT_GAMMAS})"
    )
    add_settings_options(sweep, mode=False, gamma=False)
    add_model_options(sweep)
    add_call_cache_option(sweep)
    sweep.set_defaults(handler=_sweep)

    calibrate = commands.add_parser(
        "calibrate", help="pick γ on a dev split to hit a token or scale-rate target"
    )
    _add_data_options(calibrate, limit=False)
    target = calibrate.add_mutually_exclusive_group(required=True)
    target.add_argument("--target-tokens", type=float, help="mean tokens per question to aim for")
    target.add_argument("--target-scale-rate", type=float, help="fraction of steps scaled to aim for")
    calibrate.add_argument("--dev", type=int, default=5, help="questions in the dev split (the first ones)")
    calibrate.add_argument(
        "--holdout", type=int, default=5, help="questions in the held-out split (the next)"
    )
    calibrate.add_argument("--tolerance", type=float, default=0.1, help="relative tolerance (default 0.1)")
    calibrate.add_argument("--max-trials", type=int, default=7, help="γ values to try at most")
    calibrate.add_argument(
        "--check",
        type=Path,
        metavar="SWEEP_DIR",
        help="then run the chosen γ on this sweep folder's questions: where it lands vs the target",
    )
    add_settings_options(calibrate, mode=False, gamma=False)
    add_model_options(calibrate)
    add_call_cache_option(calibrate)
    calibrate.set_defaults(handler=_calibrate)


def _add_data_options(parser: argparse.ArgumentParser, *, limit: bool = True) -> None:
    parser.add_argument(
        "--dataset", required=True, help="a JSON/JSONL file (gzipped or not) or a hub dataset"
    )
    parser.add_argument("--split", default="test", help="hub dataset split (default test)")
    parser.add_argument("--kind", choices=["math", "choice"], help="grading (default: detected)")
    if limit:
        parser.add_argument("--limit", type=int, help="the first K questions only")
    parser.add_argument("--level", help="only these difficulty levels (MATH), e.g. 1,2 or 1-2")
    parser.add_argument("--records", type=int, help="look only at the first R records of the dataset")
    parser.add_argument("--concurrency", type=int, default=1, help="questions in flight (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results (resumable)")


def _load_problems(args: argparse.Namespace, err: Console, limit: int | None) -> list[Problem]:
    try:
        levels = parse_levels(args.level) if args.level else None
        problems, skipped = load_problems(
            args.dataset, split=args.split, kind=args.kind, limit=limit, levels=levels, records=args.records
        )
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    for skip in skipped:
        err.print(
            f"[yellow]skipped[/yellow] {escape(skip.source)} record {skip.index}: {escape(skip.reason)}"
        )
    if not problems:
        msg = f"no usable question in {args.dataset}"
        raise UsageError(msg)
    return problems


def _run_cell(
    problems: Sequence[Problem],
    config: MURConfig,
    models: tuple[BaseChatModel, BaseChatModel, str, str],
    args: argparse.Namespace,
    err: Console,
) -> Path:
    """Run one (dataset, method, mode, γ) cell with a progress bar; return its results file."""
    from mur_graph.eval.runner import run_eval
    from mur_graph.graph import create_mur_graph

    policy, critic, policy_name, critic_name = models
    label = dataset_label(args.dataset)
    own = method_settings_from_args(args, mode=config.mode)
    graph = create_mur_graph(policy, method=args.method, method_settings=own, critic=critic, config=config)
    settings = graph.settings_record(config)
    path = args.out / results_name(label, settings)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with ResultsFile(path) as results, Progress(*columns, TimeElapsedColumn(), console=err) as progress:
        try:
            already = len(results.finished_ids(settings))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        name = f"{args.method} {config.mode}" + (f" γ={config.gamma:g}" if config.mode == "mur" else "")
        task = progress.add_task(name, total=len(problems), completed=min(already, len(problems)))

        def show(tally: Any) -> None:
            progress.update(task, advance=1, description=f"{name} · {tally.describe()}")

        tally = asyncio.run(
            run_eval(
                problems,
                graph,
                config,
                results,
                dataset=label,
                concurrency=args.concurrency,
                policy_name=policy_name,
                critic_name=critic_name,
                on_progress=show,
            )
        )
    err.print(f"{path}: {tally.done} run now, {tally.skipped} already there, {tally.failed} failed")
    if failed := [r for r in tally.records if r["status"] == "failed"]:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        err.print(
            f"[red]error:[/red] {escape(str(failed[0]['id']))}{more} failed: {escape(failed[0]['error'])}; "
            "rerun the same command to retry the failed questions"
        )
    return path


def _eval(args: argparse.Namespace, err: Console) -> int:
    """`mur-graph eval`: one cell, appended to DIR, resumable."""
    check_run_options(args)
    config = config_from_args(args)
    problems = _load_problems(args, err, args.limit)
    with err.status("loading the model…"):
        models = load_models(args)
    _run_cell(problems, config, models, args, err)
    _print_rows(err, summarise(collect([args.out])))
    return 0


def _add_report_arguments(report: argparse.ArgumentParser) -> None:
    """The `report` command's arguments (also parsed by `report_folder`, for their defaults)."""
    report.add_argument("dirs", nargs="+", type=Path, help="folders (or files) of results")
    report.add_argument(
        "--out",
        type=Path,
        help="Markdown file to write (default: DIR/report.md when given one folder; files: none)",
    )
    report.add_argument(
        "--questions", type=int, help="questions a full row holds (default: the most any row holds)"
    )
    report.add_argument(
        "--common",
        action="store_true",
        help="only the questions every row holds (compare a run stopped part way on equal terms)",
    )
    report.add_argument(
        "--plot",
        type=Path,
        metavar="STEM",
        help="also draw accuracy vs tokens (the γ curve) to STEM.png and STEM.svg",
    )
    report.add_argument(
        "--regrade",
        action="store_true",
        help="extract and grade every answer again from its stored solution (records made by older code)",
    )
    report.add_argument(
        "--endings",
        action="store_true",
        help="also tabulate how each cell's runs ended (cut steps, fallbacks, no answer) and how often "
        "each kind was right",
    )
    report.add_argument(
        "--gate",
        action="store_true",
        help="also tabulate each cell's step uncertainties and how often the gate fires, and would fire "
        "at other γ, on its recorded steps, and how well it singles out the runs that end wrong",
    )
    report.set_defaults(handler=_report)


def report_folder(folder: Path, err: Console) -> int:
    """`mur-graph report FOLDER`: print a results folder's table and write its report.md."""
    parser = argparse.ArgumentParser(prog="mur-graph report")
    _add_report_arguments(parser)  # the command's own defaults, whatever flags it gains
    return _report(parser.parse_args(["--", str(folder)]), err)


def _report(args: argparse.Namespace, err: Console) -> int:
    """`mur-graph report`: the table, printed and written as Markdown."""
    missing = [str(d) for d in args.dirs if not d.exists()]
    if missing:
        msg = f"no such results folder: {', '.join(missing)}"
        raise UsageError(msg)
    if args.questions is not None and args.questions < 1:
        msg = f"--questions must be an integer >= 1, got {args.questions}"
        raise UsageError(msg)
    if args.out is not None and args.out.is_dir():
        msg = f"--out {args.out} is a folder; pass the Markdown file to write, e.g. {args.out / 'report.md'}"
        raise UsageError(msg)
    records = collect(args.dirs, regrade=args.regrade)
    rows = summarise(records, questions=args.questions, common=args.common)
    if not rows:
        msg = f"no results in {', '.join(map(str, args.dirs))}; run mur-graph eval --out DIR first"
        raise UsageError(msg)
    _print_rows(Console(), rows)
    sections = _extra_tables(args, records)
    for title, table in sections:
        Console(soft_wrap=True).out(f"\n{title}:\n{table}", highlight=False)
    # A selection of files is not the folder's report: only a lone folder gets DIR/report.md.
    whole_folder = len(args.dirs) == 1 and args.dirs[0].is_dir()
    out = args.out or (args.dirs[0] / "report.md" if whole_folder else None)
    written: list[Path] = []
    if out is not None:
        out.write_text(
            report_markdown(rows) + "".join(f"\n**{title}**\n\n{table}" for title, table in sections)
        )
        written.append(out)
    if args.plot is not None:
        from mur_graph.eval.plots import plot_sweep

        counts = sorted({row["questions"] for row in rows})
        held = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        written += plot_sweep(rows, args.plot, title=f"n = {held} questions per point")
    if written:
        err.print("wrote " + ", ".join(map(str, written)))
    return 0


def _extra_tables(args: argparse.Namespace, records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The tables `--endings` and `--gate` ask for, as (title, Markdown table), in print order."""
    if not (args.endings or args.gate):
        return []
    cells = cell_records(records, common=args.common)
    labelled = {cell_key_label(key): list(by_id.values()) for key, by_id in cells.items()}
    sections: list[tuple[str, str]] = []
    if args.endings:
        from mur_graph.eval.endings import endings, endings_table

        sections.append(("How the runs ended", endings_table(endings(labelled))))
    if args.gate:
        from mur_graph.eval.gate_rates import gate_rates, gate_table
        from mur_graph.eval.gate_signal import fired_effect, fired_table, gate_signal, signal_table

        sections.append(("The gate on the recorded steps", gate_table(gate_rates(labelled))))
        sections.append(
            (
                "The gate's aim, wrong runs against right ones (AUROC 0.5: none)",
                signal_table(gate_signal(labelled)),
            )
        )
        sections.append(
            ("Where MUR's gate fired, against the CoT run of its seed", fired_table(fired_effect(cells)))
        )
    return sections


def _sweep(args: argparse.Namespace, err: Console) -> int:
    """`mur-graph sweep`: CoT, per-step and MUR at each γ; the table and the plot."""
    from mur_graph.eval.plots import plot_sweep

    check_run_options(args)
    gammas = gammas_from_text(args.gammas)
    configs = [config_from_args(args, mode="cot"), config_from_args(args, mode="per_step")]
    configs += [config_from_args(args, mode="mur", gamma=g) for g in gammas]
    problems = _load_problems(args, err, args.limit)
    with err.status("loading the model…"):
        models = load_models(args)
    paths = [_run_cell(problems, config, models, args, err) for config in configs]
    rows = summarise(collect(paths))
    _print_rows(err, rows)
    (args.out / "sweep.md").write_text(markdown_table(rows))
    written = plot_sweep(rows, args.out / "sweep", title=f"{models[2]} · {len(problems)} questions")
    err.print("wrote " + ", ".join(str(p) for p in [args.out / "sweep.md", *written]))
    return 0


def _calibrate(args: argparse.Namespace, err: Console) -> int:
    """`mur-graph calibrate`: γ chosen on the dev split, checked on the held-out split."""
    from mur_graph.eval.calibrate import calibrate_gamma

    check_run_options(args)
    target = args.target_tokens if args.target_tokens is not None else args.target_scale_rate
    quantity: Quantity = "total_tokens" if args.target_tokens is not None else "scale_rate"
    base = config_from_args(args, mode="mur")
    problems = _load_problems(args, err, args.dev + args.holdout)
    dev, holdout = problems[: args.dev], problems[args.dev : args.dev + args.holdout]
    if not dev or not holdout:
        msg = f"need {args.dev} dev and {args.holdout} held-out questions, the dataset has {len(problems)}"
        raise UsageError(msg)
    same = _sweep_questions(args, err) if args.check is not None else []
    with err.status("loading the model…"):
        models = load_models(args)

    def measure_on(split: Sequence[Problem], folder: str, gamma: float) -> float:
        split_args = argparse.Namespace(**{**vars(args), "out": args.out / folder})
        path = _run_cell(split, base.replace(gamma=gamma), models, split_args, err)
        (row,) = summarise(collect([path]))
        value = row[quantity]
        return float(value) if value is not None else 0.0

    def measure(gamma: float) -> float:
        return measure_on(dev, "dev", gamma)

    try:
        found = calibrate_gamma(measure, target, tolerance=args.tolerance, max_trials=args.max_trials)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    held = measure_on(holdout, "holdout", found.gamma)
    summary = {
        "target": {quantity: target},
        "gamma": found.gamma,
        "dev": {"questions": len(dev), quantity: found.measured, "relative_error": found.relative_error},
        "holdout": {"questions": len(holdout), quantity: held, "relative_error": (held - target) / target},
        "within_tolerance_on_dev": found.within_tolerance,
        "trials": [{"gamma": g, quantity: v} for g, v in found.trials],
    }
    if args.check is not None:
        checked = base.replace(gamma=found.gamma)
        summary["check"] = _check_on_sweep(args, same, checked, models, quantity, target, err)
    (args.out / "calibration.json").write_text(json.dumps(summary, indent=2) + "\n")
    verdict = "within" if found.within_tolerance else "NOT within"
    err.print(
        f"γ = {found.gamma:.4g}: dev {quantity} {found.measured:.3g} ({found.relative_error:+.1%}, "
        f"{verdict} ±{args.tolerance:.0%}); held-out {held:.3g} ({(held - target) / target:+.1%})"
    )
    return 0


def _sweep_questions(args: argparse.Namespace, err: Console) -> list[Problem]:
    """The dataset's questions that the sweep folder `--check` holds results for.

    Raises:
        UsageError: the folder holds no result of this dataset.
    """
    label = dataset_label(args.dataset)
    ids = {str(r["id"]) for r in collect([args.check]) if r["dataset"] == label}
    same = [p for p in _load_problems(args, err, None) if p.id in ids]
    if not same:
        msg = f"no results of {label} in {args.check}; run mur-graph sweep --out {args.check} first"
        raise UsageError(msg)
    return same


def _check_on_sweep(
    args: argparse.Namespace,
    same: Sequence[Problem],
    config: MURConfig,
    models: tuple[BaseChatModel, BaseChatModel, str, str],
    quantity: Quantity,
    target: float,
    err: Console,
) -> dict[str, Any]:
    """Run the calibrated γ on the sweep's questions, into the sweep's folder; redraw its plot.

    The table and plot keep the curve the new point joins: CoT, per-step and MUR of the same
    dataset, method, variant (bias correction, calculator) and critic kind. Other cells in the
    folder (other critics, methods, variants or datasets) are left out.
    """
    from mur_graph.eval.plots import plot_sweep

    check_args = argparse.Namespace(**{**vars(args), "out": args.check})
    path = _run_cell(same, config, models, check_args, err)
    (row,) = summarise(collect([path]))
    measured = float(row[quantity] or 0.0)
    error = (measured - target) / target
    within = abs(error) <= args.tolerance
    err.print(
        f"check on the sweep's {len(same)} questions: γ = {config.gamma:.4g} gives {quantity} "
        f"{measured:.3g} ({error:+.1%} vs {target:g}, {'within' if within else 'NOT within'} "
        f"±{args.tolerance:.0%})"
    )
    curve = settings_record(config, args.method, method_settings_from_args(args, mode=config.mode))
    label = dataset_label(args.dataset)
    on_curve = [r for r in collect([args.check]) if r["dataset"] == label and _on_curve(r["settings"], curve)]
    rows = summarise(on_curve)
    plot_sweep(rows, args.check / "sweep", title=f"{models[2]} · {len(same)} questions")
    (args.check / "sweep.md").write_text(markdown_table(rows))
    return {
        "folder": str(args.check),
        "questions": len(same),
        quantity: measured,
        "relative_error": error,
        "within_tolerance": within,
    }


def _on_curve(settings: dict[str, Any], curve: dict[str, Any]) -> bool:
    """Whether a record's cell lies on the sweep curve of `curve`'s method, variant and critic."""
    if canonical_method(settings["method"]) != canonical_method(curve["method"]):
        return False
    if variant_of(settings) != variant_of(curve):
        return False
    if (settings.get("seed") or 0) != (curve.get("seed") or 0):
        return False
    return settings["mode"] == "cot" or critic_label(settings) == critic_label(curve)


def _print_rows(console: Console, rows: list[ReportRow]) -> None:
    if not console.is_terminal:  # a log file: the Markdown tables, never cut to 80 columns
        console.out(report_markdown(rows), highlight=False)
        return
    table = Table(show_header=True)
    for _, title in COLUMNS:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(*(format_cell(key, row[key], row) for key, _ in COLUMNS))
    console.print(table)
    spreads = seed_spreads(rows)
    if spreads:
        console.out("\nAcross seeds:\n" + spread_table(spreads), highlight=False)
