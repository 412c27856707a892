"""Scaling subgraphs behind the γ edge, and the registry that maps method names to builders.

A scaling method is any compiled graph that reads the parent's `question`, `steps`, `draft` and
`gate` keys and writes `kept` (a `mur_graph.state.Kept`); register a builder for it with
`register_scaling_method` and select it with `MURConfig(method=NAME)`.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from mur_graph.config import MURConfig
from mur_graph.scaling.critic_refine import build_critic_refine_subgraph
from mur_graph.scaling.critics import CriticKind, critic_kinds, get_critic_kind, register_critic_kind
from mur_graph.scaling.guided_search import build_guided_search_subgraph
from mur_graph.scaling.phi_foresight import build_phi_foresight_subgraph

__all__ = [
    "ALIASES",
    "CriticKind",
    "ScalingBuilder",
    "build_scaling_subgraph",
    "canonical_method",
    "critic_kinds",
    "get_critic_kind",
    "register_critic_kind",
    "register_scaling_method",
    "scaling_methods",
]


class ScalingBuilder(Protocol):
    """Builds a scaling subgraph for a policy, a critic and the graph's default settings."""

    def __call__(self, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig) -> Any:
        """Return a compiled graph (or any Runnable) that writes `kept`."""
        ...


_REGISTRY: dict[str, ScalingBuilder] = {
    "guided_search": build_guided_search_subgraph,
    "critic_refine": build_critic_refine_subgraph,
    "phi_foresight": build_phi_foresight_subgraph,
}
ALIASES = {"critic": "critic_refine", "phi": "phi_foresight"}
"""Short names accepted wherever a method is named (`--method critic`)."""


def register_scaling_method(name: str, builder: ScalingBuilder, *, replace: bool = False) -> None:
    """Make `builder` available as `MURConfig(method=name)`; the graph's node is named `name`.

    Raises:
        ValueError: `name` is taken (or an alias) and `replace` is False.
    """
    if name in ALIASES:
        msg = f"{name!r} is an alias of {ALIASES[name]!r}; choose another name"
        raise ValueError(msg)
    if name in _REGISTRY and not replace:
        msg = f"scaling method {name!r} is already registered; pass replace=True to override it"
        raise ValueError(msg)
    _REGISTRY[name] = builder


def scaling_methods() -> list[str]:
    """Return the names of the registered scaling methods."""
    return sorted(_REGISTRY)


def canonical_method(name: str) -> str:
    """Return the registered name behind `name` (an alias like `critic`, or the name itself).

    Raises:
        ValueError: no method of that name is registered.
    """
    canonical = ALIASES.get(name, name)
    if canonical not in _REGISTRY:
        known = ", ".join([*scaling_methods(), *ALIASES])
        msg = f"unknown scaling method {name!r}; registered methods: {known}"
        raise ValueError(msg)
    return canonical


def build_scaling_subgraph(
    name: str, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig
) -> Any:
    """Build the registered scaling subgraph `name` (or its alias).

    Raises:
        ValueError: no method of that name is registered.
    """
    return _REGISTRY[canonical_method(name)](policy=policy, critic=critic, default=default)
