"""Scaling subgraphs behind the γ edge, and the registry that maps method names to builders.

A scaling method is any compiled graph that reads the parent's `question`, `steps`, `draft` and
`gate` keys and writes `kept` (a `mur_graph.state.Kept`); register a builder for it with
`register_scaling_method` and select it when the graph is built: `create_mur_graph(policy, method=NAME)`.
A method declares what is its own when it is registered: its settings (a frozen dataclass of
knobs, given when the graph is built as `method_settings=`), the ledger kinds it books tokens
under and the events it emits. `paper_config(method)` gives a method's paper defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from mur_graph.config import MURConfig
from mur_graph.events import register_events
from mur_graph.ledger import LedgerSide, register_ledger_kind
from mur_graph.scaling.critic_refine import CriticRefineSettings, build_critic_refine_subgraph
from mur_graph.scaling.critics import (
    CriticKind,
    critic_kinds,
    get_critic_kind,
    register_critic_kind,
    vote_counts,
)
from mur_graph.scaling.guided_search import GuidedSearchSettings, build_guided_search_subgraph
from mur_graph.scaling.phi_foresight import PhiSettings, build_phi_foresight_subgraph

__all__ = [
    "ALIASES",
    "DEFAULT_METHOD",
    "CriticKind",
    "CriticRefineSettings",
    "GuidedSearchSettings",
    "MethodChoice",
    "PhiSettings",
    "ScalingBuilder",
    "ScalingMethod",
    "build_scaling_subgraph",
    "canonical_method",
    "choose_method",
    "critic_kinds",
    "get_critic_kind",
    "method_local_limits",
    "method_setting_defaults",
    "method_setting_names",
    "paper_config",
    "paper_gamma",
    "register_critic_kind",
    "register_scaling_method",
    "scaling_methods",
    "vote_counts",
]


DEFAULT_METHOD = "guided_search"
"""The scaling method of a graph built without one (the paper's main setting)."""


class ScalingBuilder(Protocol):
    """Builds a scaling subgraph for a policy, a critic and the graph's default settings.

    A method registered with `settings=` gets its settings object too, as `settings=`.
    """

    def __call__(self, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig) -> Any:
        """Return a compiled graph (or any Runnable) that writes `kept`."""
        ...


@dataclass(frozen=True)
class ScalingMethod:
    """A registered scaling method: its builder, its names, its paper γ and what it declares."""

    name: str
    builder: ScalingBuilder
    aliases: tuple[str, ...] = ()
    paper_gamma: float | None = None
    """γ of the paper's setting for this method; None: the default γ (guided search's 0.8)."""
    settings: type[Any] | None = None
    """The method's own settings: a frozen dataclass whose fields are its knobs (with defaults;
    its `__post_init__` validates them). None: the method has no settings of its own."""
    ledger_kinds: Mapping[str, LedgerSide] = dataclasses.field(default_factory=dict)
    """The ledger kinds it books tokens under, each a `policy` or a `critic` kind."""
    events: tuple[str, ...] = ()
    """The custom stream events it emits (`mur_graph.events.emit`), beyond the graph's own."""
    awaits: tuple[str, ...] = ()
    """What its `generating` events announce (`StepCall.announce`), beyond the graph's own."""
    local_limits: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Its own settings' values with the local models on CPU (the CLI's and the served graphs'
    short limits, as `config.EMBEDDED_DEMO_LIMITS` for the shared ones)."""


@dataclass(frozen=True)
class MethodChoice:
    """The scaling method a graph is built with: the name as given, its names and its settings."""

    name: str
    """The method as named when the graph was built (an alias stays an alias); recorded as is."""
    canonical: str
    """The registered name (the graph's node)."""
    names: frozenset[str]
    """Every name that selects it: the registered name and its aliases."""
    settings: Any = None
    """The method's settings object, or None for a method without settings."""

    def settings_dict(self) -> dict[str, Any]:
        """The method's settings as a JSON-friendly dict (empty for a method without settings)."""
        return dataclasses.asdict(self.settings) if self.settings is not None else {}


_REGISTRY: dict[str, ScalingMethod] = {
    method.name: method
    for method in (
        ScalingMethod(
            "guided_search",
            build_guided_search_subgraph,
            settings=GuidedSearchSettings,
            ledger_kinds={"candidates": "policy", "critic": "critic"},
            events=("candidates",),
            awaits=("candidates", "critic"),
        ),
        ScalingMethod(
            "critic_refine",
            build_critic_refine_subgraph,
            ("critic",),
            paper_gamma=0.9,
            settings=CriticRefineSettings,
            ledger_kinds={"revision": "policy", "critic": "critic"},
            events=("critique",),
            awaits=("critique", "revision"),
            # the paper's 1024-token critique would take minutes at 10-15 tokens/s
            local_limits={"critique_tokens": 64},
        ),
        ScalingMethod(
            "phi_foresight",
            build_phi_foresight_subgraph,
            ("phi",),
            paper_gamma=0.9,
            settings=PhiSettings,
            ledger_kinds={"candidates": "policy", "rollouts": "policy"},
            events=("candidates",),
            awaits=("candidates", "rollouts"),
        ),
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
    settings: type[Any] | None = None,
    ledger_kinds: Mapping[str, LedgerSide] | None = None,
    events: Sequence[str] = (),
    awaits: Sequence[str] = (),
    local_limits: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> None:
    """Make `builder` available as `create_mur_graph(policy, method=name)`; the node is named `name`.

    Args:
        name: The method's name (the graph's node, the recorded `method` setting).
        builder: Returns the compiled subgraph for `policy`, `critic` and the default settings
            (and, with `settings`, the method's settings object as `settings=`).
        aliases: Short names that select it too (`--method critic`).
        paper_gamma: γ of the paper's setting for it (`paper_config(name)`); None: 0.8.
        settings: The method's own knobs: a frozen dataclass with a default for each field,
            validating in `__post_init__`. A graph is built with its defaults, or with
            `create_mur_graph(..., method_settings={...})`; results record them.
        ledger_kinds: The ledger kinds its subgraph books tokens under (`Kept.tokens`), each
            `"policy"` or `"critic"`; a kind the package does not know is added to the ledger.
        events: The custom events it emits besides the graph's own (`mur_graph.events`).
        awaits: What its `generating` events announce besides the graph's own.
        local_limits: Values of its own settings for the local models on CPU (the CLI and the
            served graphs apply them unless given), e.g. `{"critique_tokens": 64}`.
        replace: Replace a method registered under `name`.

    Raises:
        ValueError: `name` or an alias is taken (and `replace` is False, for `name`),
            `paper_gamma` is not in (0, 1], `settings` is not a dataclass whose fields all have
            defaults, a ledger kind is already a kind of the other side, or `local_limits` are
            not valid settings of it.
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
    if settings is not None:
        _check_settings_class(name, settings)
    kinds = dict(ledger_kinds or {})
    method = ScalingMethod(
        name,
        builder,
        tuple(aliases),
        paper_gamma,
        settings,
        kinds,
        tuple(events),
        tuple(awaits),
        dict(local_limits or {}),
    )
    _method_settings(method, method.local_limits)  # limits are valid values of its own settings
    for kind, side in kinds.items():
        register_ledger_kind(kind, side)
    register_events(events=events, awaits=awaits)
    _REGISTRY[name] = method


def _check_settings_class(name: str, settings: type[Any]) -> None:
    if not (isinstance(settings, type) and dataclasses.is_dataclass(settings)):
        msg = (
            f"settings of {name!r} must be a dataclass (frozen, a default for every field), got {settings!r}"
        )
        raise ValueError(msg)
    missing = [
        f.name
        for f in dataclasses.fields(settings)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        msg = f"settings of {name!r}: give every field a default ({', '.join(missing)} has none)"
        raise ValueError(msg)


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


def choose_method(name: str | None = None, settings: object = None) -> MethodChoice:
    """The method `name` (an alias, or None for guided search) with its settings, validated.

    `settings` is a mapping of the method's knobs (those left out keep their defaults), an
    instance of its settings class, or None for the defaults.

    Raises:
        ValueError: no method of that name is registered, a setting it does not have, or an
            invalid value (the settings class's message).
    """
    name = DEFAULT_METHOD if name is None else name
    if not isinstance(name, str) or not name:
        msg = f"invalid method {name!r}: must be the name of a registered scaling method"
        raise ValueError(msg)
    method = _REGISTRY[canonical_method(name)]
    names = frozenset({method.name, *method.aliases})
    return MethodChoice(name, method.name, names, _method_settings(method, settings))


def _method_settings(method: ScalingMethod, given: object) -> Any:
    kind = method.settings
    if kind is None:
        if given:
            msg = f"scaling method {method.name!r} has no settings of its own; got {given!r}"
            raise ValueError(msg)
        return None
    if given is None:
        return kind()
    if isinstance(given, kind):
        return given
    if not isinstance(given, Mapping):
        msg = (
            f"settings of {method.name!r} must be a {kind.__name__} or a mapping of its fields, got {given!r}"
        )
        raise ValueError(msg)
    known = [f.name for f in dataclasses.fields(kind)]
    unknown = sorted(set(given) - set(known))
    if unknown:
        msg = (
            f"scaling method {method.name!r} has no setting {unknown[0]!r}; its settings: {', '.join(known)}"
        )
        raise ValueError(msg)
    return kind(**given)


def build_scaling_subgraph(
    name: str | MethodChoice, *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig
) -> Any:
    """Build the registered scaling subgraph `name` (or its alias, or a chosen method with settings).

    Raises:
        ValueError: no method of that name is registered.
    """
    choice = name if isinstance(name, MethodChoice) else choose_method(name)
    method = _REGISTRY[choice.canonical]
    extra = {"settings": choice.settings} if method.settings is not None else {}
    return method.builder(policy=policy, critic=critic, default=default, **extra)


def method_setting_defaults(name: str | None = None) -> dict[str, Any]:
    """Method `name`'s own settings at their defaults (every registered method's, without a name).

    A record lacking a method's setting reads as its default, as one lacking a `MURConfig` setting
    does. A name no method is registered under has none.
    """
    if name is not None:
        method = _REGISTRY.get(ALIASES.get(name, name))
        return dataclasses.asdict(method.settings()) if method and method.settings else {}
    defaults: dict[str, Any] = {}
    for method in _REGISTRY.values():
        if method.settings is not None:
            defaults |= dataclasses.asdict(method.settings())
    return defaults


def method_setting_names() -> list[str]:
    """The names of every registered method's own settings."""
    return sorted({f.name for m in _REGISTRY.values() if m.settings for f in dataclasses.fields(m.settings)})


def method_local_limits(name: str) -> dict[str, Any]:
    """Method `name`'s own settings for the local models on CPU (`local_limits` when registered).

    None for a name no method is registered under.
    """
    method = _REGISTRY.get(ALIASES.get(name, name))
    return dict(method.local_limits) if method is not None else {}


def paper_gamma(name: str) -> float | None:
    """The paper's γ for method `name` (or its alias), or None for the default γ or an unknown name."""
    method = _REGISTRY.get(ALIASES.get(name, name))
    return method.paper_gamma if method is not None else None


def paper_config(method: str | None = None, **changes: Any) -> MURConfig:
    """The paper's settings for `method` (spec §4), with `changes` applied.

    γ is the one `register_scaling_method(..., paper_gamma=...)` gave the method (0.9 for the
    critic and φ-decoding), else 0.8. The step format is the paper's `prompted` (`Step{k}:`
    headers), not `MURConfig`'s default `natural`, unless `changes` names `step_format` (the CLI
    always does: its `--step-format` default is `natural`). The method itself is chosen when the
    graph is built: `create_mur_graph(policy, method=method, config=paper_config(method))`.

    Raises:
        ValueError: an invalid setting in `changes`.
    """
    gamma = None if method is None else paper_gamma(method)
    settings: dict[str, Any] = {"step_format": "prompted"}
    if gamma is not None:
        settings["gamma"] = gamma
    return MURConfig(**(settings | changes))
