"""Run settings for a MUR graph: one frozen, validated object (the graph's `context_schema`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, TypeGuard, get_args

Mode = Literal["mur", "per_step", "cot", "plain"]
"""`mur`: scale a step when the γ gate fires; `per_step`: scale every step; `cot`: never scale;
`plain`: the model run plainly — its own chat template, one call, no step format (the baseline a
user gets without mur-graph)."""

MODES: tuple[str, ...] = get_args(Mode)

EMBEDDED_DEMO_LIMITS = {"max_steps": 12, "max_step_tokens": 128, "fallback_tokens": 256}
"""Limits used with the local models (the default or a registered name) on CPU unless given: the
paper's (20 steps, 2048 tokens per step, 8096 for the fallback) would take many minutes at 10-15
tokens/s. A natural-format step is a paragraph of the model's own solution: 64-token steps cut
them (the 1.5B answered "What is 17 + 25?" with 37 at 8 × 64, 42 at 12 × 128). The CLI and the
`langgraph dev` factories apply them; a scaling method's own settings have theirs where it is
registered (`register_scaling_method(..., local_limits=...)`)."""

StepFormatName = Literal["prompted", "blank_line", "natural"]
"""`prompted`: `Step{k}:` headers (the paper); `blank_line`: steps separated by blank lines;
`natural`: the paragraphs of the solution the model writes under its own chat template and the
plain system prompt (no instruction about steps)."""

STEP_FORMAT_NAMES: tuple[str, ...] = get_args(StepFormatName)


@dataclass(frozen=True)
class MURConfig:
    """Settings of one MUR run. Defaults are the paper's guided-search setting (spec §4), but one.

    The step format is `natural` (the model's own paragraphs), not the paper's `Step{k}:` headers
    (`step_format="prompted"`), which cost accuracy (docs/settings.md); `paper_config()` is the
    paper's setting exactly.

    Invalid values raise `ValueError` at construction, with the valid range in the message.
    Pass one to `create_mur_graph(config=...)` as the default, or per run as
    `graph.invoke(inputs, context=MURConfig(...))`. The scaling method is not a setting: it is
    chosen when the graph is built (`create_mur_graph(policy, method=...)`); its paper defaults
    come from `mur_graph.scaling.paper_config(method)`.
    """

    mode: Mode = "mur"
    """Which steps are scaled: `mur` (γ gate), `per_step` (all) or `cot` (none)."""
    alpha: float = 0.9
    """Momentum rate α in M_t = α·M_{t-1} + (1-α)·m_t; in [0, 1)."""
    gamma: float = 0.8
    """Scaling rate γ in (0, 1]: scale when exp(m_t) > exp(M_{t-1})/γ. Larger γ scales more."""
    candidates: int = 4
    """N, the number of candidate steps sampled when a step is scaled."""
    max_steps: int = 20
    """Steps before the fallback completion is asked for."""
    max_step_tokens: int = 2048
    """Token limit of one step (and of one candidate)."""
    fallback_tokens: int = 8096
    """Token limit of the final unstopped completion when no answer was reached."""
    critic_tokens: int = 8
    """Token limit of one critic verdict (the Yes/No is read from its first tokens)."""
    temperature: float = 0.6
    """Sampling temperature of the policy; 0 means greedy decoding."""
    draft_temperature: float | None = None
    """Temperature of the unscaled draft of each step; None: `temperature`. 0 gives greedy drafts
    (the model's best guess) while the candidates of a scaled step are still sampled."""
    plain_tokens: int = 1024
    """Token limit of the one call of `plain` mode (the whole solution)."""
    token_budget: int | None = None
    """Stop reasoning once this many tokens (all kinds) were generated; None for no limit."""
    seed: int | None = None
    """Base seed; each model call gets a seed derived from it, so a run is reproducible."""
    bias_correction: bool = False
    """Compare against M_{t-1}/(1-α^t) instead of the paper's raw, zero-started momentum."""
    step_format: StepFormatName = "natural"
    """`natural` (the default): the paragraphs the model writes unprompted (its chat template, the
    plain system prompt); `prompted`: `Step{k}:` headers (the paper's format, `paper_config()`);
    `blank_line`: steps separated by blank lines."""
    reuse_draft: bool = False
    """Keep the draft that tripped the gate as candidate 0 (the paper throws it away)."""
    calculator: bool = False
    """Let a step call the calculator by writing `<<expression>>` (docs/security.md)."""
    calculator_calls: int = 4
    """Most calculator calls in one step; the step ends at the next one."""
    critic_concurrency: int | None = None
    """Critic verdicts of one scaled step asked at the same time (1: one after another); None: all
    N against a server, one after another on a local model (measured faster on CPU)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            _fail("mode", self.mode, f"one of {', '.join(MODES)}")
        if not _finite(self.alpha) or not 0.0 <= self.alpha < 1.0:
            _fail("alpha", self.alpha, "a number in [0, 1)")
        if not _finite(self.gamma) or not 0.0 < self.gamma <= 1.0:
            _fail("gamma", self.gamma, "a number in (0, 1]")
        if not _finite(self.temperature) or not 0.0 <= self.temperature <= 10.0:
            _fail("temperature", self.temperature, "a number in [0, 10]")
        if self.draft_temperature is not None and (
            not _finite(self.draft_temperature) or not 0.0 <= self.draft_temperature <= 10.0
        ):
            _fail("draft_temperature", self.draft_temperature, "a number in [0, 10], or None for temperature")
        if self.step_format not in STEP_FORMAT_NAMES:
            _fail("step_format", self.step_format, f"one of {', '.join(STEP_FORMAT_NAMES)}")
        for name in (
            "candidates",
            "max_steps",
            "max_step_tokens",
            "fallback_tokens",
            "critic_tokens",
            "plain_tokens",
            "calculator_calls",
        ):
            check_positive_int(name, getattr(self, name))
        if self.token_budget is not None and (not _is_int(self.token_budget) or self.token_budget < 1):
            _fail("token_budget", self.token_budget, "an integer >= 1, or None for no budget")
        if self.critic_concurrency is not None and (
            not _is_int(self.critic_concurrency) or self.critic_concurrency < 1
        ):
            _fail("critic_concurrency", self.critic_concurrency, "an integer >= 1, or None for automatic")
        if self.seed is not None and not _is_int(self.seed):
            _fail("seed", self.seed, "an integer, or None")
        for flag in ("bias_correction", "reuse_draft", "calculator"):
            if not isinstance(getattr(self, flag), bool):
                _fail(flag, getattr(self, flag), "True or False")
        if self.mode == "plain" and self.calculator:
            _fail("calculator", self.calculator, "False in plain mode (the calculator is a step-format tool)")

    def replace(self, **changes: Any) -> MURConfig:
        """Return a copy with `changes` applied (and validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-friendly dict."""
        return asdict(self)


def settings_record(
    config: MURConfig, method: str, method_settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The settings recorded with a result.

    `config`'s, the graph's `method` (after `mode`, where records have always had it) and the
    method's own settings (`method_settings`).
    """
    settings = config.to_dict()
    mode = settings.pop("mode")
    return {"mode": mode, "method": method, **settings, **(method_settings or {})}


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_positive_int(name: str, value: object) -> None:
    """Refuse a setting `name` that is not an integer >= 1, in the words of every MUR setting.

    For a scaling method's own settings too (their `__post_init__`), so a bad knob reads like a
    bad `MURConfig` field.

    Raises:
        ValueError: `invalid MUR setting {name}={value!r}: must be an integer >= 1`.
    """
    if not _is_int(value) or value < 1:
        _fail(name, value, "an integer >= 1")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(name: str, value: object, valid: str) -> None:
    msg = f"invalid MUR setting {name}={value!r}: must be {valid}"
    raise ValueError(msg)


def resolve_config(context: object, default: MURConfig) -> MURConfig:
    """Return the run's settings: the `context=` passed to invoke/stream, else the graph's default.

    Raises:
        TypeError: the context is not a MURConfig.
    """
    if context is None:
        return default
    if not isinstance(context, MURConfig):
        msg = f"context must be a mur_graph.MURConfig, got {type(context).__name__}"
        raise TypeError(msg)
    return context
