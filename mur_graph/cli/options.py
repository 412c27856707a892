"""Command-line options shared by `solve`, `eval`, `sweep` and `calibrate`, and what they build."""

from __future__ import annotations

import argparse
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from mur_graph.config import EMBEDDED_DEMO_LIMITS, MODES, STEP_FORMAT_NAMES, MURConfig
from mur_graph.errors import MURError
from mur_graph.models import (
    DEFAULT_MODEL,
    MODEL_NAMES,
    SERVER_MAX_RETRIES,
    SERVER_TIMEOUT_S,
    CallCache,
    MissingDependencyError,
    is_local_name,
    load_chat_model,
    using_call_cache,
)
from mur_graph.scaling import (
    ALIASES,
    canonical_method,
    choose_method,
    critic_kinds,
    method_local_limits,
    method_setting_defaults,
    method_setting_names,
    paper_config,
    scaling_methods,
)

_SETTINGS = (
    "alpha",
    "candidates",
    "max_steps",
    "max_step_tokens",
    "fallback_tokens",
    "plain_tokens",
    "draft_temperature",
)


class UsageError(MURError):
    """A bad command line; the message says what to pass instead (exit status 2)."""


def add_settings_options(parser: argparse.ArgumentParser, *, mode: bool = True, gamma: bool = True) -> None:
    """Add the MUR settings: method, mode, γ, α, N, limits, format, seed."""
    parser.add_argument(
        "--method",
        default="guided_search",
        choices=[*scaling_methods(), *ALIASES],
        help="scaling method: guided_search, critic (critic_refine) or phi (phi_foresight)",
    )
    parser.add_argument(
        "--critic-kind",
        choices=critic_kinds(),
        help="how guided search picks a candidate: generative (critic's P(Yes), the default), "
        "confidence (lowest m_t) or vote (agreeing answers, else confidence); the last two cost "
        "no critic tokens",
    )
    parser.add_argument(
        "--critic-concurrency",
        type=int,
        help="critic verdicts of one scaled step asked at once (default: all against a server, "
        "one after another on a local model)",
    )
    if mode:
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="mur",
            help="mur (γ gate), per_step, cot, or plain (the model run plainly: its chat template, one call)",
        )
    if gamma:
        parser.add_argument(
            "--gamma", type=float, help="γ in (0, 1]; larger scales more (default: the paper's, 0.8 or 0.9)"
        )
    parser.add_argument("--alpha", type=float, help="momentum rate α in [0, 1) (default 0.9)")
    parser.add_argument("--candidates", type=int, help="N candidates per scaled step (default 4)")
    parser.add_argument("--max-steps", type=int, help="steps before the fallback completion")
    parser.add_argument("--max-step-tokens", type=int, help="token limit of one step")
    parser.add_argument("--fallback-tokens", type=int, help="token limit of the fallback completion")
    parser.add_argument(
        "--critique-tokens",
        type=int,
        help="token limit of a critique, the critic method's own setting (default 1024; 64 with the "
        "local models)",
    )
    parser.add_argument("--temperature", type=float, help="sampling temperature (default 0.6)")
    parser.add_argument(
        "--draft-temperature",
        type=float,
        help="temperature of each step's unscaled draft (default: --temperature); 0: greedy drafts, "
        "candidates still sampled",
    )
    parser.add_argument(
        "--plain-tokens", type=int, help="token limit of plain mode's one call (default 1024)"
    )
    parser.add_argument("--token-budget", type=int, help="stop after this many generated tokens")
    parser.add_argument("--bias-correction", action="store_true", help="bias-corrected momentum")
    parser.add_argument(
        "--step-format",
        choices=STEP_FORMAT_NAMES,
        default="natural",
        help="natural (the default: the paragraphs the model writes under its own chat template and "
        "the plain system prompt), prompted (the paper's Step<k>: headers) or blank_line (steps "
        "separated by blank lines)",
    )
    parser.add_argument(
        "--reuse-draft", action="store_true", help="keep the draft as candidate 0 when scaling"
    )
    parser.add_argument("--seed", type=int, help="seed for reproducible sampling")
    parser.add_argument(
        "--calculator",
        action="store_true",
        help="let steps call a safe calculator by writing <<expression>> (docs/security.md)",
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add the policy and critic choices (local model, or an OpenAI-compatible server)."""
    parser.add_argument(
        "--model",
        help=f"{' or '.join(MODEL_NAMES)}, a hub id or a local folder of the policy "
        f"(default: {DEFAULT_MODEL} on llama.cpp)",
    )
    parser.add_argument("--critic", help="hub id or local folder of the critic (default: the policy)")
    parser.add_argument(
        "--base-url",
        help="OpenAI-compatible server (vLLM, llama.cpp) serving --model, e.g. http://127.0.0.1:8000/v1",
    )
    parser.add_argument("--critic-base-url", help="OpenAI-compatible server serving --critic")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=SERVER_TIMEOUT_S,
        help=f"seconds one server request may take (default {SERVER_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        default=SERVER_MAX_RETRIES,
        help=f"retries of a failed server request, with backoff (default {SERVER_MAX_RETRIES})",
    )


def add_call_cache_option(parser: argparse.ArgumentParser) -> None:
    """Add `--call-cache FILE`: replay the seeded calls that other cells or runs already made."""
    parser.add_argument(
        "--call-cache",
        type=Path,
        metavar="FILE",
        help="SQLite file of answered model calls: a seeded call asked again (the same step at "
        "another γ, a rerun) is replayed from it and charged the seconds it first took; "
        "share one file across a sweep, its calibration and parallel runs",
    )


@contextmanager
def call_cache_from_args(args: argparse.Namespace) -> Iterator[None]:
    """Run the block with `--call-cache`'s file as the call cache (no cache without the flag).

    Raises:
        UsageError: the run is unseeded at a temperature above 0 (nothing would be replayed), or
            the file cannot be opened as SQLite.
    """
    path = getattr(args, "call_cache", None)
    if path is None:
        yield
        return
    if getattr(args, "seed", None) is None and getattr(args, "temperature", None) != 0:
        msg = "--call-cache replays seeded calls only; pass --seed (e.g. --seed 0)"
        raise UsageError(msg)
    try:
        cache = CallCache(path)
    except sqlite3.Error as exc:
        msg = f"--call-cache {path}: {exc}; pass the path of a new or existing SQLite file"
        raise UsageError(msg) from exc
    with cache, using_call_cache(cache):
        yield


def check_run_options(args: argparse.Namespace) -> None:
    """Refuse the bad numbers and paths of `eval`, `sweep` and `calibrate` before any model loads.

    Raises:
        UsageError: a count below 1, a target or tolerance that is not a positive number, an empty
            `--level`, or an `--out` (`--check`) that is a file rather than a folder.
    """
    for flag in ("concurrency", "limit", "records", "dev", "holdout", "max_trials"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            msg = f"--{flag.replace('_', '-')} must be an integer >= 1, got {value}"
            raise UsageError(msg)
    for flag in ("target_tokens", "tolerance"):
        value = getattr(args, flag, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            msg = f"--{flag.replace('_', '-')} must be a number > 0, got {value}"
            raise UsageError(msg)
    rate = getattr(args, "target_scale_rate", None)
    if rate is not None and not (math.isfinite(rate) and 0 < rate <= 1):
        msg = f"--target-scale-rate must be a fraction in (0, 1], got {rate}"
        raise UsageError(msg)
    level = getattr(args, "level", None)
    if level is not None and not level.strip():
        msg = "--level is empty; give levels like 1,2 or 1-2, or leave the option out for all"
        raise UsageError(msg)
    for flag in ("out", "check"):
        path = getattr(args, flag, None)
        if path is not None and path.exists() and not path.is_dir():
            msg = f"--{flag} {path} is a file; pass a folder (it is created when missing)"
            raise UsageError(msg)
    check = getattr(args, "check", None)
    if check is not None and not check.is_dir():
        msg = f"--check {check}: no such folder; pass the folder of a finished mur-graph sweep"
        raise UsageError(msg)


def config_from_args(args: argparse.Namespace, **overrides: Any) -> MURConfig:
    """The validated settings from parsed arguments (before any model is loaded).

    Raises:
        UsageError: a setting is out of range, or a server URL lacks its model name.
    """
    for flag, value in (
        ("--model", args.model),
        ("--critic", args.critic),
        ("--base-url", args.base_url),
        ("--critic-base-url", args.critic_base_url),
    ):
        if value is not None and not value.strip():
            msg = f"{flag} is empty; pass a value or leave the option out"
            raise UsageError(msg)
    for flag, url, name in (
        ("--base-url", args.base_url, args.model),
        ("--critic-base-url", args.critic_base_url, args.critic),
    ):
        if url and not name:
            model_flag = "--model" if flag == "--base-url" else "--critic"
            msg = f"{flag} needs {model_flag}: the model name the server serves, e.g. Qwen/Qwen3-1.7B"
            raise UsageError(msg)
    timeout, retries = getattr(args, "request_timeout", None), getattr(args, "max_retries", None)
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        msg = f"--request-timeout must be a number of seconds > 0, got {timeout}"
        raise UsageError(msg)
    if retries is not None and retries < 0:
        msg = f"--max-retries must be an integer >= 0, got {retries}"
        raise UsageError(msg)
    settings: dict[str, Any] = {"step_format": args.step_format}
    if getattr(args, "mode", None):
        settings["mode"] = args.mode
    method_settings_from_args(args)  # a bad method setting is refused here too, before any model
    if _local_models(args):
        settings.update(EMBEDDED_DEMO_LIMITS)
    for name in (*_SETTINGS, "gamma", "temperature", "token_budget", "seed", "critic_concurrency"):
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = value
    settings["bias_correction"] = args.bias_correction
    settings["reuse_draft"] = args.reuse_draft
    settings["calculator"] = getattr(args, "calculator", False)
    settings |= overrides
    try:
        return paper_config(args.method, **settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def gammas_from_text(text: str) -> list[float]:
    """`--gammas`' comma-separated γ values (empty parts skipped; each checked with the run's settings).

    Raises:
        UsageError: a part is not a number.
    """
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        msg = f"--gammas must be comma-separated numbers, got {text!r}"
        raise UsageError(msg) from exc


def _local_models(args: argparse.Namespace) -> bool:
    """Whether the policy is a local model (the default or a registered name), not a server's."""
    return is_local_name(args.model, args.base_url)


def method_settings_from_args(
    args: argparse.Namespace, method: str | None = None, *, mode: str | None = None
) -> dict[str, Any]:
    """The own settings of `method` (default: `--method`) from parsed arguments, validated.

    The flags of its settings that were given (`--critique-tokens` for the critic, `--critic-kind`
    for guided search), over its limits with the local models (`method_local_limits`). A flag of
    another method's setting is checked as well but not applied: one command line may run several
    methods (`mur-graph study`). Nor is any in `cot` and `plain` modes (`mode`, default `--mode`),
    which scale no step: their results are one file whatever the method's settings.

    Raises:
        UsageError: an unknown method, or a method setting out of range.
    """
    given = {
        name: value for name in method_setting_names() if (value := getattr(args, name, None)) is not None
    }
    try:
        name = canonical_method(method or args.method)
        for other in scaling_methods():
            if own := {k: v for k, v in given.items() if k in method_setting_defaults(other)}:
                choose_method(other, own)
        settings = method_local_limits(name) if _local_models(args) else {}
        if (mode or getattr(args, "mode", None)) not in ("cot", "plain"):
            settings |= {k: v for k, v in given.items() if k in method_setting_defaults(name)}
        choose_method(name, settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return settings


def load_models(args: argparse.Namespace) -> tuple[BaseChatModel, BaseChatModel, str, str]:
    """Load the policy and the critic; return them with their display names."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # the transformers extra is not installed: no progress bars to hide
        pass
    else:
        hf_logging.disable_progress_bar()  # the CLI shows its own progress
    policy = _load(args.model, args.base_url, args)
    critic = _load(args.critic, args.critic_base_url, args) if args.critic else policy
    policy_name = args.model or DEFAULT_MODEL
    return policy, critic, policy_name, args.critic or policy_name


def _load(model: str | None, base_url: str | None, args: argparse.Namespace) -> BaseChatModel:
    """A local model, or a client of an OpenAI-compatible server with the flags' timeout and retries."""
    if base_url is None:
        return load_chat_model(model)
    timeout, retries = getattr(args, "request_timeout", None), getattr(args, "max_retries", None)
    try:
        return load_chat_model(model, base_url=base_url, timeout=timeout, max_retries=retries)
    except MissingDependencyError as exc:
        msg = f"--base-url: {exc}"
        raise UsageError(msg) from exc
