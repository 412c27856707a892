"""Graph factories for LangGraph's server (`langgraph dev`, Studio, MCP), named in `langgraph.json`.

The factories are async: the server awaits them on its event loop, so the model is loaded in a
worker thread (`asyncio.to_thread`), once per server process; later runs reuse the compiled
graphs. Importing this module loads nothing. The policy is the default model, Qwen2.5-Coder-1.5B
on llama.cpp, or the model named by the `MUR_GRAPH_MODEL` environment variable: local (a
registered name, a hub id or a folder), or served at `MUR_GRAPH_BASE_URL` (vLLM, llama.cpp).

Each served graph is a thin wrapper around the MUR graph, with a small state: the question in;
the answer, the two-line summary an agent reads (`mur_graph.agents.summary_text`), the token
ledger and a reference to the full trace out. The server returns that state as a run's result
(to MCP's `tools/call` too), so clients get an answer, not every step record. The trace
(`MURToolArtifact`: summary, step records, solution, fallback) goes to the server's store under
`TRACE_NAMESPACE`; updates and custom events of the inner run still stream with
`stream_subgraphs=True`. The graphs are compiled without a checkpointer: the server persists
threads itself, which is what `mur_review`'s pauses need.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import functools
import json
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any, NotRequired, get_type_hints

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from mur_graph.agents import tool_result
from mur_graph.compiled import compile_mur_graph
from mur_graph.config import EMBEDDED_DEMO_LIMITS, MURConfig
from mur_graph.graph import build_mur_graph
from mur_graph.ledger import Ledger
from mur_graph.models import is_local_name, load_chat_model
from mur_graph.scaling import GuidedSearchSettings, choose_method, method_local_limits, scaling_methods
from mur_graph.state import MURInput

MODEL_VARIABLE = "MUR_GRAPH_MODEL"
BASE_URL_VARIABLE = "MUR_GRAPH_BASE_URL"
SETTINGS_VARIABLE = "MUR_GRAPH_SETTINGS"
"""A JSON object of `MURConfig` fields and guided search's own settings (`critic_kind`) that
changes the served defaults, e.g. `{"max_steps": 4, "critic_kind": "confidence"}`."""
TRACE_NAMESPACE = ("mur", "traces")
"""Store namespace of the full traces of served runs; the key is in the result's `trace`."""

ServedSettings: Any = TypedDict(  # type: ignore[misc]
    "ServedSettings",
    {
        name: NotRequired[hint]
        for name, hint in (get_type_hints(MURConfig) | get_type_hints(GuidedSearchSettings)).items()
    },
)
"""A run's `context`: any `MURConfig` field or guided search's own setting (`critic_kind`); the
ones left out keep the served defaults. (LangGraph's server drops a key its schema lacks.)"""


class TraceRef(TypedDict):
    """Where a served run's full trace lies in the server's store."""

    namespace: list[str]
    key: str


class ServedOutput(TypedDict):
    """A served run's result: what MCP's `tools/call` and `runs.wait` return."""

    answer: str | None
    summary: str
    """`Answer: ...` / `Reasoning: N steps, K scaled; T tokens (...); stopped: ...` (as agents get it)."""
    ledger: Ledger
    trace: TraceRef | None
    """The store item holding the `MURToolArtifact`; None when the server has no store."""


class ServedState(MURInput, ServedOutput, total=False):
    """The wrapper's state: the question and the result."""


@functools.cache
def studio_policy() -> BaseChatModel:
    """The policy the served graphs run (also their critic).

    `$MUR_GRAPH_MODEL` on the OpenAI-compatible server at `$MUR_GRAPH_BASE_URL` (vLLM, llama.cpp;
    through `ChatOpenAI(logprobs=True)`, with the CLI's timeout and retries) when that is set;
    else the local model `$MUR_GRAPH_MODEL` (a registered name, a hub id or a folder), else the
    default model (`mur_graph.models.DEFAULT_MODEL`).
    """
    model = os.environ.get(MODEL_VARIABLE) or None
    return load_chat_model(model, base_url=os.environ.get(BASE_URL_VARIABLE) or None)


def studio_config() -> MURConfig:
    """The served defaults: the paper's, with short limits for the registered local models on CPU.

    `$MUR_GRAPH_SETTINGS` (a JSON object of `MURConfig` fields) changes them for every run, which
    is the only way to set them for MCP's `tools/call` (it sends no run context).
    """
    return _served_config(_settings_from_env())


def _served_config(served: dict[str, Any]) -> MURConfig:
    """The local-model limits (when the model is one) with the `MURConfig` fields `served` names."""
    limits: dict[str, Any] = dict(EMBEDDED_DEMO_LIMITS) if _local_model() else {}
    return MURConfig(**limits).replace(**_config_part(served))


def studio_method_settings() -> dict[str, dict[str, Any]]:
    """The served defaults of the methods' own settings, by method: their local-model limits.

    The critic's `critique_tokens` is 64 with the registered local models on CPU, as the CLI's.
    """
    if not _local_model():
        return {}
    return {name: limits for name in scaling_methods() if (limits := method_local_limits(name))}


def _local_model() -> bool:
    return is_local_name(os.environ.get(MODEL_VARIABLE) or None, os.environ.get(BASE_URL_VARIABLE))


def _settings_from_env() -> dict[str, Any]:
    text = os.environ.get(SETTINGS_VARIABLE, "").strip()
    if not text:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{SETTINGS_VARIABLE} is not JSON ({exc}); set it to an object, e.g. '{{\"max_steps\": 4}}'"
        raise ValueError(msg) from None
    if not isinstance(settings, dict):
        msg = f"{SETTINGS_VARIABLE} must be a JSON object of MURConfig fields, e.g. '{{\"max_steps\": 4}}'"
        raise ValueError(msg)
    _check_names(settings, SETTINGS_VARIABLE)
    return settings


def served_run_settings(context: object) -> tuple[MURConfig, GuidedSearchSettings]:
    """Return a served run's settings: the served ones with those its `context` names.

    `MURConfig`'s fields and guided search's own (`GuidedSearchSettings`), each from
    `$MUR_GRAPH_SETTINGS` (read once) and then the context. The server passes a run without a
    context as `{}`; with `MURConfig` as the context schema LangGraph would turn that into
    `MURConfig()`, the paper's 20 steps of 2048 tokens and an 8096-token fallback, which on a CPU
    model takes far longer than an MCP client waits.
    """
    served, given = _settings_from_env(), _checked(context)
    config = _served_config(served).replace(**_config_part(given))
    own = {k: v for k, v in (served | given).items() if k not in _CONFIG_NAMES}
    return config, GuidedSearchSettings(**own)


def run_settings(context: object) -> MURConfig:
    """A served run's `MURConfig` (`served_run_settings`)."""
    return served_run_settings(context)[0]


def run_method_settings(context: object) -> GuidedSearchSettings:
    """A served run's guided-search settings (`served_run_settings`)."""
    return served_run_settings(context)[1]


_CONFIG_NAMES = frozenset(field.name for field in dataclasses.fields(MURConfig))


def _config_part(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k in _CONFIG_NAMES}


def _checked(context: object) -> dict[str, Any]:
    if context is None:
        return {}
    if not isinstance(context, dict):
        msg = f"context must be a dict of MUR settings, got {type(context).__name__}"
        raise TypeError(msg)
    _check_names(context, "the run's context")
    return context


def _check_names(settings: dict[Any, Any], where: str) -> None:
    """Refuse a name that is no served setting, naming the closest one (one line)."""
    names = [
        *(field.name for field in dataclasses.fields(MURConfig)),
        *(field.name for field in dataclasses.fields(GuidedSearchSettings)),
    ]
    for key in settings:
        if key == "method":
            msg = f"{where} cannot choose the method: the served graphs run {choose_method().name}"
            raise ValueError(msg)
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown setting {key!r} in {where}; {hint}the settings are {', '.join(names)}"
            raise ValueError(msg)


InnerGraphs = Callable[[GuidedSearchSettings], CompiledStateGraph[Any, Any, Any, Any]]
"""The compiled MUR graph for a run's guided-search settings (one per critic kind, built once)."""


def _serve(inner: InnerGraphs, name: str) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The served graph: one node, `solve`, that runs the MUR graph for the run's settings.

    The graph of the served settings is built now (loading the model) and named in `solve`, where
    LangGraph finds it as the node's subgraph (Studio's view, `get_graph(xray=True)`); a run with
    another critic kind gets its graph from `inner`, built on first use.
    """
    served_settings = run_method_settings(None)
    served = inner(served_settings)

    async def solve(state: ServedState, *, runtime: Runtime[Any]) -> dict[str, Any]:
        # The run's config reaches the inner graph through LangGraph's context variable, so it
        # runs as a subgraph: streamed under `solve:`, checkpointed with the thread, resumable.
        config, own = served_run_settings(runtime.context)
        mur = served if own == served_settings else await asyncio.to_thread(inner, own)
        result = await mur.ainvoke({"question": state["question"]}, context=config)
        summary, artifact = tool_result(result)
        trace: TraceRef | None = None
        if runtime.store is not None:
            trace = TraceRef(namespace=list(TRACE_NAMESPACE), key=str(uuid.uuid4()))
            await runtime.store.aput(TRACE_NAMESPACE, trace["key"], dict(artifact))
        return {
            "answer": result.get("answer"),
            "summary": summary,
            "ledger": result["ledger"],
            "trace": trace,
        }

    builder = StateGraph(
        ServedState, context_schema=ServedSettings, input_schema=MURInput, output_schema=ServedOutput
    )
    builder.add_node("solve", solve)
    builder.add_edge(START, "solve")
    builder.add_edge("solve", END)
    return builder.compile(name=name)


_building = threading.RLock()
_served: dict[bool, CompiledStateGraph[Any, Any, Any, Any]] = {}
"""The compiled served graphs, by `interrupt_on_scale`: built once per process, reused by every run."""
_inner: dict[tuple[bool, GuidedSearchSettings], CompiledStateGraph[Any, Any, Any, Any]] = {}
"""The MUR graphs they run, by `interrupt_on_scale` and guided-search settings."""


def _compiled(*, interrupt_on_scale: bool) -> CompiledStateGraph[Any, Any, Any, Any]:
    name = "mur_review" if interrupt_on_scale else "mur"
    with _building:
        if interrupt_on_scale not in _served:
            inner = functools.partial(_inner_graph, interrupt_on_scale=interrupt_on_scale)
            _served[interrupt_on_scale] = _serve(inner, name)
        return _served[interrupt_on_scale]


def _inner_graph(
    settings: GuidedSearchSettings, *, interrupt_on_scale: bool
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The MUR graph (guided search with `settings`) a served graph runs, built on first use."""
    with _building:  # concurrent first runs wait for one build (and one model load)
        key = (interrupt_on_scale, settings)
        if key not in _inner:
            config, method = studio_config(), choose_method(settings=settings)  # guided search
            mur = build_mur_graph(
                studio_policy(), method=method, config=config, interrupt_on_scale=interrupt_on_scale
            )
            name = "mur_review" if interrupt_on_scale else "mur"
            _inner[key] = compile_mur_graph(mur, config, method, name=name)
        return _inner[key]


async def make_graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The MUR graph (guided search); a run's `context` changes any of its settings."""
    return await asyncio.to_thread(_compiled, interrupt_on_scale=False)


async def make_review_graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The MUR graph with a human review before each scaled step (`interrupt_on_scale=True`)."""
    return await asyncio.to_thread(_compiled, interrupt_on_scale=True)
