"""The compiled MUR graph: each run gets a recursion limit derived from its `max_steps`.

LangGraph stops a run after `recursion_limit` supersteps. Its default was 25 in langgraph 1.0.0
(10007 later): a 10-step MUR run takes 42. A MUR run is bounded by `max_steps` already, so
`MURGraph` gives every run the limit it needs (`recursion_limit`) instead of relying on the default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from mur_graph.config import MURConfig, settings_record
from mur_graph.scaling import MethodChoice, method_setting_names
from mur_graph.state import MURInput, MURState

STEPS_PER_MUR_STEP = 4
"""Supersteps of one MUR step: generate_step, assess_uncertainty, accept (or the scaling
subgraph, which runs as one superstep of the parent) and commit_step."""
REVIEW_STEPS = 1
"""The extra superstep of a step that goes through `review_scale` (`interrupt_on_scale=True`)."""
RUN_STEPS = 2
"""Supersteps outside the loop: finalize, and one LangGraph counts (a run of n steps needs 4n + 2)."""


def recursion_limit(max_steps: int, *, review: bool = False) -> int:
    """Return the recursion limit a run of at most `max_steps` steps needs, with one spare step.

    Measured with the scripted model (tests/unit/test_recursion_limit.py): a run of n steps
    needs exactly 4n + 2 supersteps (5n + 2 when every step is reviewed and scaled).
    """
    per_step = STEPS_PER_MUR_STEP + (REVIEW_STEPS if review else 0)
    return per_step * (max_steps + 1) + RUN_STEPS


class MURGraph(CompiledStateGraph[MURState, MURConfig, MURInput, MURState]):
    """A compiled MUR graph (what `create_mur_graph` returns) that sets each run's recursion limit.

    `invoke`, `stream`, their async twins and `stream_events` all run through `stream` /
    `astream`, which set `recursion_limit` to `recursion_limit(max_steps)` of the run's settings:
    the `context=` passed (a `MURConfig`, or a dict as LangGraph's server sends) or the graph's
    default. A higher limit in the caller's config or `with_config` is kept; a lower one (such as
    LangGraph 1.0.0's default of 25) is raised, because `max_steps` bounds the loop already.
    A dict context (LangGraph's server) that names another scaling method than the built one is
    refused (ValueError) before the run starts; one naming the built method runs without it. A
    dict context naming a method's own setting (`critic_kind`) is refused there too: those are
    fixed when the graph is built.
    Everything else is LangGraph's `CompiledStateGraph`.
    """

    mur_default: MURConfig
    """The settings a run without `context=` gets (`create_mur_graph(config=...)`)."""
    mur_method: MethodChoice
    """The scaling method the graph was built with (`create_mur_graph(method=...)`) and its settings."""

    def __init__(self, *, mur_default: MURConfig, mur_method: MethodChoice, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mur_default = mur_default
        self.mur_method = mur_method

    def settings_record(self, config: MURConfig | None = None) -> dict[str, Any]:
        """The settings a result of a run with `config` (default: the graph's) records.

        The run's `MURConfig`, the method the graph was built with and the method's own settings.
        """
        return settings_record(
            config or self.mur_default, self.mur_method.name, self.mur_method.settings_dict()
        )

    def run_recursion_limit(self, config: RunnableConfig | None = None, context: object = None) -> int:
        """Return the recursion limit a run with this `config` and `context` gets."""
        max_steps = self.mur_default.max_steps
        if isinstance(context, MURConfig):
            max_steps = context.max_steps
        elif isinstance(context, Mapping) and isinstance(context.get("max_steps"), int):
            max_steps = context["max_steps"]
        needed = recursion_limit(max_steps, review="review_scale" in self.nodes)
        given = [c.get("recursion_limit") for c in (self.config, config) if c]
        return max([needed, *(int(limit) for limit in given if limit is not None)])

    def _run_context(self, context: object) -> object:
        """The run's context, checked before the run starts.

        A dict context naming a method's own setting (`critic_kind`) is refused: those are fixed
        when the graph is built, as the method is. A dict context loses its `method`, refused if
        it names another method than the built one.
        """
        if isinstance(context, Mapping):
            for name in method_setting_names():
                if name in context:
                    msg = (
                        f"{name} is a setting of the scaling method, fixed when the graph is built: "
                        f"create_mur_graph(..., method_settings={{{name!r}: {context[name]!r}}})"
                    )
                    raise ValueError(msg)
        if not isinstance(context, Mapping) or "method" not in context:
            return context
        asked = context["method"]
        if asked is not None and asked not in self.mur_method.names:
            msg = (
                f"this graph was built for method {self.mur_method.name!r}, not {asked!r}; "
                f"build another with create_mur_graph(..., method={asked!r})"
            )
            raise ValueError(msg)
        return {key: value for key, value in context.items() if key != "method"}

    def stream(
        self, input: Any, config: RunnableConfig | None = None, *, context: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Run `CompiledStateGraph.stream` with the run's recursion limit."""
        context = self._run_context(context)
        limited = self._limited(config, context)
        return super().stream(input, limited, context=context, **kwargs)

    def astream(
        self, input: Any, config: RunnableConfig | None = None, *, context: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Run `CompiledStateGraph.astream` with the run's recursion limit."""
        context = self._run_context(context)
        limited = self._limited(config, context)
        return super().astream(input, limited, context=context, **kwargs)

    def _limited(self, config: RunnableConfig | None, context: object) -> RunnableConfig:
        return {**(config or {}), "recursion_limit": self.run_recursion_limit(config, context)}


def compile_mur_graph(
    builder: StateGraph[MURState, MURConfig, MURInput, MURState],
    default: MURConfig,
    method: MethodChoice,
    *,
    checkpointer: Checkpointer = None,
    name: str = "mur",
) -> MURGraph:
    """Compile `build_mur_graph`'s builder into a `MURGraph` whose runs default to `default`.

    `method` is the scaling method the builder was built with (`mur_graph.scaling.choose_method`).
    """
    compiled = builder.compile(checkpointer=checkpointer, name=name)
    # The same attributes Pregel.copy hands to its class; `__orig_class__` is the generic alias's.
    attrs = {key: value for key, value in compiled.__dict__.items() if key != "__orig_class__"}
    return MURGraph(mur_default=default, mur_method=method, **attrs)
