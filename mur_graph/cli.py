"""The `mur-graph` command line: `mur-graph solve "QUESTION"` runs MUR and shows each step live."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mur_graph.config import MODES, STEP_FORMAT_NAMES, MURConfig
from mur_graph.ledger import KINDS
from mur_graph.models.contract import MissingLogprobsError
from mur_graph.models.embedded import EmbeddedModelError
from mur_graph.scaling import ALIASES, scaling_methods

EMBEDDED_DEMO_LIMITS = {"max_steps": 8, "max_step_tokens": 64, "fallback_tokens": 128, "critique_tokens": 64}
"""Limits used with the embedded 135M model on CPU unless given: the paper's (20 steps, 2048
tokens per step, 8096 for the fallback, 1024 for a critique) would take many minutes at ~10 tokens/s."""


class UsageError(Exception):
    """A bad command line; the message says what to pass instead."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `mur-graph`."""
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
            "Without --model the embedded SmolLM2-135M-Instruct runs on this machine, offline."
        ),
    )
    solve.add_argument("question", help="the problem to solve")
    solve.add_argument("--mode", choices=MODES, default="mur", help="mur (γ gate), per_step or cot")
    solve.add_argument(
        "--method",
        default="guided_search",
        choices=[*scaling_methods(), *ALIASES],
        help="scaling method: guided_search, critic (critic_refine) or phi (phi_foresight)",
    )
    solve.add_argument(
        "--gamma", type=float, help="γ in (0, 1]; larger scales more (default: the paper's, 0.8 or 0.9)"
    )
    solve.add_argument("--alpha", type=float, help="momentum rate α in [0, 1) (default 0.9)")
    solve.add_argument("--candidates", type=int, help="N candidates per scaled step (default 4)")
    solve.add_argument("--max-steps", type=int, help="steps before the fallback completion")
    solve.add_argument("--max-step-tokens", type=int, help="token limit of one step")
    solve.add_argument("--fallback-tokens", type=int, help="token limit of the fallback completion")
    solve.add_argument("--critique-tokens", type=int, help="token limit of a critique (method critic)")
    solve.add_argument("--temperature", type=float, help="sampling temperature (default 0.6)")
    solve.add_argument("--token-budget", type=int, help="stop after this many generated tokens")
    solve.add_argument("--bias-correction", action="store_true", help="bias-corrected momentum")
    solve.add_argument(
        "--step-format",
        choices=STEP_FORMAT_NAMES,
        default="prompted",
        help="prompted (Step<k>: headers) or blank_line (for models that ignore the format)",
    )
    solve.add_argument(
        "--reuse-draft", action="store_true", help="keep the draft as candidate 0 when scaling"
    )
    solve.add_argument("--seed", type=int, help="seed for reproducible sampling")
    solve.add_argument("--model", help="hub id or local folder of the policy (default: embedded SmolLM2)")
    solve.add_argument("--critic", help="hub id or local folder of the critic (default: the policy)")
    solve.add_argument(
        "--base-url",
        help="OpenAI-compatible server (vLLM, llama.cpp) serving --model, e.g. http://127.0.0.1:8000/v1",
    )
    solve.add_argument("--critic-base-url", help="OpenAI-compatible server serving --critic")
    solve.add_argument("--json", action="store_true", help="print the full trace as JSON on stdout")
    return parser


def config_from_args(args: argparse.Namespace) -> MURConfig:
    """Build the validated settings from parsed arguments (before any model is loaded)."""
    settings: dict[str, Any] = {"mode": args.mode, "step_format": args.step_format}
    if args.model is None:
        settings.update(EMBEDDED_DEMO_LIMITS)
    names = (
        "gamma",
        "alpha",
        "candidates",
        "max_steps",
        "max_step_tokens",
        "fallback_tokens",
        "critique_tokens",
    )
    for name in (*names, "temperature", "token_budget", "seed"):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    settings["bias_correction"] = args.bias_correction
    settings["reuse_draft"] = args.reuse_draft
    return MURConfig.paper(args.method, **settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mur-graph`; return the exit status."""
    args = build_parser().parse_args(argv)
    err = Console(stderr=True)
    try:
        if args.command == "solve":
            return _solve(args, err)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    except (EmbeddedModelError, MissingLogprobsError, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    return 2


def _solve(args: argparse.Namespace, err: Console) -> int:
    question = args.question.strip()
    if not question:
        msg = 'the question is empty; pass the problem text, e.g. mur-graph solve "What is 17 + 25?"'
        raise UsageError(msg)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for flag, url, name in (
        ("--base-url", args.base_url, args.model),
        ("--critic-base-url", args.critic_base_url, args.critic),
    ):
        if url and not name:
            model_flag = "--model" if flag == "--base-url" else "--critic"
            msg = f"{flag} needs {model_flag}: the model name the server serves, e.g. Qwen/Qwen3-1.7B"
            raise UsageError(msg)

    from transformers.utils import logging as hf_logging

    from mur_graph.graph import create_mur_graph
    from mur_graph.models import EMBEDDED_NAME
    from mur_graph.result import result_document

    hf_logging.disable_progress_bar()  # the spinner says what is happening
    with err.status("loading the model…"):
        policy = _load(args.model, args.base_url)
        critic = _load(args.critic, args.critic_base_url) if args.critic else policy
    policy_name = args.model or EMBEDDED_NAME
    critic_name = args.critic or policy_name
    graph = create_mur_graph(policy, critic=critic, config=config)
    err.print(
        f"[bold]mur-graph[/bold] {config.mode} · {config.method} · γ={config.gamma} α={config.alpha} "
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
        state, config, policy_name=policy_name, critic_name=critic_name, wall_time_s=round(wall, 3)
    )
    _print_summary(err, document)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return 0


def _load(model: str | None, base_url: str | None) -> BaseChatModel:
    """A local model, or a ChatOpenAI client of an OpenAI-compatible server."""
    if base_url is None:
        from mur_graph.models import load_chat_model

        return load_chat_model(model)
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        msg = "--base-url needs langchain-openai; install it with: pip install 'mur-graph[openai]'"
        raise UsageError(msg) from exc
    return ChatOpenAI(base_url=base_url, api_key=SecretStr("EMPTY"), model=model or "", logprobs=True)


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
    for kind in KINDS:
        table.add_row(kind, str(document["ledger"][kind]))
    table.add_row("[bold]total[/bold]", f"[bold]{document['totals']['total']}[/bold]")
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
