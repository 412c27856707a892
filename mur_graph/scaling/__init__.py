"""Scaling subgraphs behind the γ edge, and the registry that maps method names to builders.

A scaling method is any compiled graph that reads the parent's `question`, `steps`, `draft` and
`gate` keys and writes `kept` (a `mur_graph.state.Kept`); register a builder for it with
`register_scaling_method` and select it with `MURConfig(method=NAME)`.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from mur_graph.config import MURConfig
from mur_graph.scaling.guided_search import build_guided_search_subgraph


class ScalingBuilder(Protocol):
    """Builds a scaling subgraph for a policy, a critic and the graph's default settings."""

    def __call__(self, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig) -> Any:
        """Return a compiled graph (or any Runnable) that writes `kept`."""
        ...


_REGISTRY: dict[str, ScalingBuilder] = {"guided_search": build_guided_search_subgraph}


def register_scaling_method(name: str, builder: ScalingBuilder, *, replace: bool = False) -> None:
    """Make `builder` available as `MURConfig(method=name)`.

    Raises:
        ValueError: `name` is taken and `replace` is False.
    """
    if name in _REGISTRY and not replace:
        msg = f"scaling method {name!r} is already registered; pass replace=True to override it"
        raise ValueError(msg)
    _REGISTRY[name] = builder


def scaling_methods() -> list[str]:
    """Return the names of the registered scaling methods."""
    return sorted(_REGISTRY)


def build_scaling_subgraph(
    name: str, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig
) -> Any:
    """Build the registered scaling subgraph `name`.

    Raises:
        ValueError: no method of that name is registered.
    """
    builder = _REGISTRY.get(name)
    if builder is None:
        msg = f"unknown scaling method {name!r}; registered methods: {', '.join(scaling_methods())}"
        raise ValueError(msg)
    return builder(policy=policy, critic=critic, default=default)
