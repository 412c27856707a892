"""Scaling subgraphs behind the γ edge, and the registry that maps method names to builders.

A scaling method is any compiled graph that reads the parent's `question`, `steps`, `draft` and
`gate` keys and writes `kept` (a `mur_graph.state.Kept`); register a builder for it with
`register_scaling_method` and select it when the graph is built: `create_mur_graph(policy, method=NAME)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from mur_graph.config import MURConfig
from mur_graph.scaling.critic_refine import build_critic_refine_subgraph
from mur_graph.scaling.critics import (
    CriticKind,
    critic_kinds,
    get_critic_kind,
    register_critic_kind,
    vote_counts,
)
from mur_graph.scaling.guided_search import build_guided_search_subgraph
from mur_graph.scaling.phi_foresight import build_phi_foresight_subgraph

__all__ = [
    "ALIASES",
    "CriticKind",
    "ScalingBuilder",
    "ScalingMethod",
    "build_scaling_subgraph",
    "canonical_method",
    "critic_kinds",
    "get_critic_kind",
    "paper_gamma",
    "register_critic_kind",
    "register_scaling_method",
    "scaling_methods",
    "vote_counts",
]


class ScalingBuilder(Protocol):
    """Builds a scaling subgraph for a policy, a critic and the graph's default settings."""

    def __call__(self, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig) -> Any:
        """Return a compiled graph (or any Runnable) that writes `kept`."""
        ...


@dataclass(frozen=True)
class ScalingMethod:
    """A registered scaling method: its builder, the short names it answers to, the paper's γ."""

    name: str
    builder: ScalingBuilder
    aliases: tuple[str, ...] = ()
    paper_gamma: float | None = None
    """γ of the paper's setting for this method; None: the default γ (guided search's 0.8)."""


_REGISTRY: dict[str, ScalingMethod] = {
    method.name: method
    for method in (
        ScalingMethod("guided_search", build_guided_search_subgraph),
        ScalingMethod("critic_refine", build_critic_refine_subgraph, ("critic",), paper_gamma=0.9),
        ScalingMethod("phi_foresight", build_phi_foresight_subgraph, ("phi",), paper_gamma=0.9),
    )
}


class _Aliases(Mapping[str, str]):
    """Alias → method name, read from the registry each time (so it is never out of date)."""

    def _table(self) -> dict[str, str]:
        return {alias: m.name for m in _REGISTRY.values() for alias in m.aliases}

    def __getitem__(self, alias: str) -> str:
        return self._table()[alias]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


ALIASES: Mapping[str, str] = _Aliases()
"""Short names accepted wherever a method is named (`--method critic`), from the registry."""


def register_scaling_method(
    name: str,
    builder: ScalingBuilder,
    *,
    aliases: Sequence[str] = (),
    paper_gamma: float | None = None,
    replace: bool = False,
) -> None:
    """Make `builder` available as `create_mur_graph(policy, method=name)`; the node is named `name`.

    Args:
        name: The method's name (the graph's node, the recorded `method` setting).
        builder: Returns the compiled subgraph for `policy`, `critic` and the default settings.
        aliases: Short names that select it too (`--method critic`).
        paper_gamma: γ of the paper's setting for it (`MURConfig.paper(name)`); None: 0.8.
        replace: Replace a method registered under `name`.

    Raises:
        ValueError: `name` or an alias is taken (and `replace` is False, for `name`), or
            `paper_gamma` is not in (0, 1].
    """
    taken = {alias: m.name for m in _REGISTRY.values() if m.name != name for alias in (m.name, *m.aliases)}
    if name in taken and name not in _REGISTRY:
        msg = f"{name!r} is an alias of {taken[name]!r}; choose another name"
        raise ValueError(msg)
    if name in _REGISTRY and not replace:
        msg = f"scaling method {name!r} is already registered; pass replace=True to override it"
        raise ValueError(msg)
    for alias in aliases:
        if alias in taken or alias == name:
            msg = f"alias {alias!r} of {name!r} already names {taken.get(alias, name)!r}; choose another"
            raise ValueError(msg)
    if paper_gamma is not None and not 0.0 < paper_gamma <= 1.0:
        msg = f"paper_gamma={paper_gamma!r} of {name!r} must be in (0, 1], or None for 0.8"
        raise ValueError(msg)
    _REGISTRY[name] = ScalingMethod(name, builder, tuple(aliases), paper_gamma)


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
    return _REGISTRY[canonical_method(name)].builder(policy=policy, critic=critic, default=default)


def paper_gamma(name: str) -> float | None:
    """The paper's γ for method `name` (or its alias), or None for the default γ or an unknown name."""
    method = _REGISTRY.get(ALIASES.get(name, name))
    return method.paper_gamma if method is not None else None
