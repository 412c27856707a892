"""Run settings for a MUR graph: one frozen, validated object (the graph's `context_schema`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

Mode = Literal["mur", "per_step", "cot"]
"""`mur`: scale a step when the γ gate fires; `per_step`: scale every step; `cot`: never scale."""

MODES: tuple[str, ...] = get_args(Mode)


@dataclass(frozen=True)
class MURConfig:
    """Settings of one MUR run. Defaults are the paper's guided-search setting (spec §4).

    Invalid values raise `ValueError` at construction, with the valid range in the message.
    Pass one to `create_mur_graph(config=...)` as the default, or per run as
    `graph.invoke(inputs, context=MURConfig(...))`.
    """

    mode: Mode = "mur"
    """Which steps are scaled: `mur` (γ gate), `per_step` (all) or `cot` (none)."""
    method: str = "guided_search"
    """Name of the scaling subgraph the γ edge routes to."""
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
    token_budget: int | None = None
    """Stop reasoning once this many tokens (all kinds) were generated; None for no limit."""
    seed: int | None = None
    """Base seed; each model call gets a seed derived from it, so a run is reproducible."""
    bias_correction: bool = False
    """Compare against M_{t-1}/(1-α^(t)) instead of the paper's raw, zero-started momentum."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            _fail("mode", self.mode, f"one of {', '.join(MODES)}")
        if not isinstance(self.method, str) or not self.method:
            _fail("method", self.method, "the name of a registered scaling method")
        if not _finite(self.alpha) or not 0.0 <= self.alpha < 1.0:
            _fail("alpha", self.alpha, "a number in [0, 1)")
        if not _finite(self.gamma) or not 0.0 < self.gamma <= 1.0:
            _fail("gamma", self.gamma, "a number in (0, 1]")
        if not _finite(self.temperature) or not 0.0 <= self.temperature <= 10.0:
            _fail("temperature", self.temperature, "a number in [0, 10]")
        for name in (
            "candidates",
            "max_steps",
            "max_step_tokens",
            "fallback_tokens",
            "critic_tokens",
        ):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                _fail(name, value, "an integer >= 1")
        if self.token_budget is not None and (not _is_int(self.token_budget) or self.token_budget < 1):
            _fail("token_budget", self.token_budget, "an integer >= 1, or None for no budget")
        if self.seed is not None and not _is_int(self.seed):
            _fail("seed", self.seed, "an integer, or None")

    def replace(self, **changes: Any) -> MURConfig:
        """Return a copy with `changes` applied (and validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-friendly dict (recorded with every result)."""
        return asdict(self)


def derive_seed(base: int | None, *parts: int) -> int | None:
    """Return a per-call seed from the run's base seed and the call's coordinates, or None."""
    if base is None:
        return None
    value = base & 0xFFFFFFFF
    for part in parts:  # FNV-1a style mixing; stable across processes, unlike hash()
        value = ((value ^ (part & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
    return value


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
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
