"""`mur-graph`: the parser, `main` and `solve`; the other commands are in the other `cli` modules."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import Any, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mur_graph import LEDGER_KINDS, MURError
from mur_graph.cli.options import (
    UsageError,
    add_model_options,
    add_settings_options,
    call_cache_from_args,
    config_from_args,
    load_models,
    method_settings_from_args,
)

_FAILURES = (MURError, OSError)
"""What a command may fail with, reported as one line and exit status 1: mur-graph's own errors
(`MURError`, whose message names the fix) and the system's (`OSError`: a file, a server)."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `mur-graph`."""
    from mur_graph.cli.eval import add_eval_commands
    from mur_graph.cli.models import add_models_commands
    from mur_graph.cli.results import add_results_commands
    from mur_graph.cli.serve import add_serve_command
    from mur_graph.cli.study import add_study_command
    from mur_graph.cli.viz import add_viz_commands

    parser = argparse.ArgumentParser(
        prog="mur-graph",
        description="Momentum Uncertainty-guided Reasoning (MUR) on LangGraph.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser(
        "solve",
        help="solve one question step by step with MUR",
        description=(
            "Solve QUESTION step by step; MUR decides per step whether to spend extra compute. "
            "Without --model Qwen2.5-Coder-1.5B-Instruct runs on this machine through llama.cpp, "
            "offline (install it once: mur-graph models install qwen2.5-coder-1.5b)."
        ),
    )
    solve.add_argument("question", help="the problem to solve")
    add_settings_options(solve)
    add_model_options(solve)
    solve.add_argument("--json", action="store_true", help="print the full trace as JSON on stdout")
    solve.set_defaults(handler=_solve)
    add_eval_commands(commands)
    add_results_commands(commands)
    add_study_command(commands)
    add_viz_commands(commands)
    add_serve_command(commands)
    add_models_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mur-graph`; return the exit status."""
    args = build_parser().parse_args(argv)
    err = Console(stderr=True, soft_wrap=True)  # long paths and messages stay whole lines
    try:
        with call_cache_from_args(args):
            status: int = args.handler(args, err)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    except _FAILURES as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    return status


def _solve(args: argparse.Namespace, err: Console) -> int:
    """`mur-graph solve`: one question, each step printed as it is committed."""
    question = args.question.strip()
    if not question:
        msg = 'the question is empty; pass the problem text, e.g. mur-graph solve "What is 17 + 25?"'
        raise UsageError(msg)
    config = config_from_args(args)
    own = method_settings_from_args(args)

    from mur_graph import result_document
    from mur_graph.graph import create_mur_graph

    with err.status("loading the model…"):
        policy, critic, policy_name, critic_name = load_models(args)
    graph = create_mur_graph(policy, method=args.method, method_settings=own, critic=critic, config=config)
    err.print(
        f"[bold]mur-graph[/bold] {config.mode} · {args.method}"
        + (f" ({kind} critic)" if (kind := graph.mur_method.settings_dict().get("critic_kind")) else "")
        + f" · γ={config.gamma} α={config.alpha} "
        f"N={config.candidates} · policy: {escape(policy_name)}"
    )
    started = time.perf_counter()
    state: dict[str, Any] = {}
    with err.status("thinking…") as status:
        stream = graph.stream({"question": question}, stream_mode=["custom", "values"], subgraphs=True)
        for item in stream:
            namespace, kind, data = cast(tuple[tuple[str, ...], str, Any], item)
            if kind == "values" and not namespace:
                state = data
            elif kind != "custom":
                continue
            elif data.get("event") == "generating":
                status.update(f"step {data['step']}: generating {data['what']}…")
            elif data.get("event") == "step":
                _print_step(err, data["record"])
    wall = time.perf_counter() - started
    document = result_document(
        state,
        graph.settings_record(config),
        policy_name=policy_name,
        critic_name=critic_name,
        wall_time_s=round(wall, 3),
    )
    _print_summary(err, document)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return 0


def _print_step(console: Console, record: dict[str, Any]) -> None:
    if record["scaled"] and record["critique"] is not None:
        critique = record["critique"]
        p_yes = "unreadable" if critique["p_yes"] is None else f"P(Yes)={critique['p_yes']:.2f}"
        decision = f"[yellow]critiqued[/yellow] ({p_yes}): {record['selection']}"
    elif record["scaled"]:
        candidates = record["candidates"]
        decision = (
            f"[yellow]scaled[/yellow] by {record['method']}: {len(candidates)} candidates, "
            f"kept #{record['selected']} ({record['selection']})"
        )
    else:
        decision = "[green]kept[/green]"
    step_tokens = sum(record["tokens"].values())
    console.print(
        f"[bold]Step{record['index']}[/bold]  m_t={record['uncertainty']:.3f}  "
        f"M_t-1={record['momentum_before']:.3f}  threshold={_fmt(record['threshold'])}  "
        f"{decision}  {step_tokens} tok"
    )
    console.print(f"  {escape(record['text'])}", highlight=False)


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else str(value)


def _print_summary(console: Console, document: dict[str, Any]) -> None:
    if document["fallback"]:
        console.print(f"[bold]Fallback[/bold]  {escape(document['fallback']['text'])}", highlight=False)
    answer = document["answer"]
    console.print(
        f"[bold]Answer:[/bold] {escape(answer) if answer else '(none found)'}  "
        f"[dim]({document['stop_reason']}, {document['n_steps']} steps, "
        f"{document['n_scaled']} scaled, {document['wall_time_s']} s)[/dim]"
    )
    table = Table(title="token ledger", show_header=True)
    table.add_column("kind")
    table.add_column("tokens", justify="right")
    ledger = document["ledger"]
    for kind in [*LEDGER_KINDS, *(kind for kind in ledger if kind not in LEDGER_KINDS)]:  # plugin kinds too
        table.add_row(escape(kind), str(ledger.get(kind, 0)))
    table.add_row("[bold]total[/bold]", f"[bold]{document['totals']['total']}[/bold]")
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
