"""The factory: `create_mur_graph` builds MUR as one LangGraph state machine."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer

from mur_graph.compiled import MURGraph, compile_mur_graph
from mur_graph.config import MURConfig
from mur_graph.models.contract import check_logprobs_enabled
from mur_graph.nodes import (
    accept,
    make_assess_uncertainty,
    make_commit_step,
    make_finalize,
    make_generate_step,
    make_review_scale,
)
from mur_graph.routing import momentum_condition, review_condition, route_after_commit, route_after_draft
from mur_graph.scaling import MethodChoice, build_scaling_subgraph, choose_method
from mur_graph.state import MURInput, MURState


def build_mur_graph(
    policy: BaseChatModel,
    *,
    method: str | MethodChoice | None = None,
    method_settings: object = None,
    critic: BaseChatModel | None = None,
    config: MURConfig | None = None,
    interrupt_on_scale: bool = False,
) -> StateGraph[MURState, MURConfig, MURInput, MURState]:
    """Return the uncompiled MUR `StateGraph`, for tests and for users who compose graphs.

    See `create_mur_graph` for the arguments; `compile_mur_graph(builder, config,
    choose_method(method, method_settings))` gives what `create_mur_graph` returns. With
    `interrupt_on_scale`, compile it with a checkpointer, or run it inside a parent graph that has one.
    """
    config = default_settings(config)
    chosen = method if isinstance(method, MethodChoice) else choose_method(method, method_settings)
    check_logprobs_enabled(policy, "policy")
    critic = critic or policy
    check_logprobs_enabled(critic, "critic")
    node = chosen.canonical
    scaling = build_scaling_subgraph(chosen, policy=policy, critic=critic, default=config)

    builder = StateGraph(MURState, context_schema=MURConfig, input_schema=MURInput)
    builder.add_node("generate_step", make_generate_step(policy, config))
    builder.add_node("assess_uncertainty", make_assess_uncertainty(config))
    builder.add_node("accept", accept)
    if interrupt_on_scale:
        builder.add_node("review_scale", make_review_scale(node, config))
    builder.add_node(node, scaling)
    builder.add_node("commit_step", make_commit_step(config))
    builder.add_node("finalize", make_finalize(policy, config))
    builder.add_edge(START, "generate_step")
    builder.add_conditional_edges(
        "generate_step",
        route_after_draft,
        {"assess_uncertainty": "assess_uncertainty", "context_full": "finalize"},
    )
    scale_target = "review_scale" if interrupt_on_scale else node
    builder.add_conditional_edges(
        "assess_uncertainty", momentum_condition, {"scale": scale_target, "accept": "accept"}
    )
    if interrupt_on_scale:
        builder.add_conditional_edges(
            "review_scale", review_condition, {"scale": node, "commit": "commit_step"}
        )
    builder.add_edge("accept", "commit_step")
    builder.add_edge(node, "commit_step")
    builder.add_conditional_edges("commit_step", route_after_commit)
    builder.add_edge("finalize", END)
    return builder


def default_settings(config: MURConfig | None) -> MURConfig:
    """Return the graph's default settings: `config`, or the defaults.

    Raises:
        TypeError: `config` is not a MURConfig.
    """
    config = config or MURConfig()
    if not isinstance(config, MURConfig):
        msg = f"config must be a mur_graph.MURConfig, got {type(config).__name__}"
        raise TypeError(msg)
    return config


def create_mur_graph(
    policy: BaseChatModel,
    *,
    method: str | None = None,
    method_settings: object = None,
    critic: BaseChatModel | None = None,
    config: MURConfig | None = None,
    checkpointer: Checkpointer = None,
    interrupt_on_scale: bool = False,
    name: str = "mur",
) -> MURGraph:
    """Build MUR (Momentum Uncertainty-guided Reasoning) as a compiled LangGraph graph.

    The graph solves `{"question": ...}` one step at a time: `generate_step` samples a draft,
    `assess_uncertainty` measures its uncertainty m_t (mean negative log-prob) against the
    momentum M_{t-1}, and the γ edge sends it to the scaling subgraph (e.g. `guided_search`)
    when m_t > M_{t-1} + ln(1/γ), or to `accept`. `commit_step` keeps the step, updates
    M_t = α·M_{t-1} + (1-α)·m̂_t and loops until an answer, `max_steps` or the token budget;
    `finalize` asks for the paper's fallback completion when no answer came and extracts it.

    Args:
        policy: The chat model that reasons. It must return per-token log-probs in OpenAI's
            shape: `ChatTransformers` (local) or `ChatOpenAI(logprobs=True)` (vLLM, llama.cpp).
        method: The scaling method behind the γ edge: `guided_search` (the default),
            `critic_refine` (`critic`), `phi_foresight` (`phi`) or one added with
            `register_scaling_method`. It is fixed when the graph is built (`graph.mur_method`)
            and recorded with its results (`graph.settings_record()`); a run's `context=`
            cannot change it. Its paper settings: `mur_graph.scaling.paper_config(method)`.
        method_settings: The method's own settings (those it registered with `settings=`): a
            mapping of its knobs, e.g. `{"clusters": 3}` for `phi`, or its settings object;
            None for its defaults.
        critic: The chat model that scores candidate steps; defaults to the policy.
        config: Default settings (mode, γ, α, N, limits); a run may override them with
            `graph.invoke(inputs, context=MURConfig(...))`.
        checkpointer: Any LangGraph checkpointer (`InMemorySaver`, `SqliteSaver`, ...), to
            persist runs per `thread_id` and resume them after an interruption or an error.
        interrupt_on_scale: Pause before a gated step is scaled (node `review_scale`) so that a
            human can resume with `Command(resume={"action": "scale" | "accept"})` or
            `{"action": "edit", "text": ...}`; see `mur_graph.nodes.review_scale`. Needs a
            checkpointer.
        name: The compiled graph's name.

    Returns:
        A compiled graph (a `CompiledStateGraph`); its output state holds `answer`, `steps` (one
        `StepRecord` each), `ledger` (tokens by kind), `stop_reason`, `fallback` and `solution`.
        Each run gets a recursion limit derived from its `max_steps` (`mur_graph.compiled`), so
        it never depends on LangGraph's default.

    Raises:
        ValueError: an invalid setting, an unknown method or a setting it does not have, a
            model set up without log-probs, or `interrupt_on_scale` without a checkpointer.
    """
    if interrupt_on_scale and (checkpointer is None or checkpointer is False):
        msg = (
            "interrupt_on_scale=True pauses the run, which needs a checkpointer to resume it: pass "
            "checkpointer=InMemorySaver() (from langgraph.checkpoint.memory) or a SqliteSaver; "
            "inside a parent graph that has one, compile build_mur_graph(..., interrupt_on_scale=True) "
            "yourself instead"
        )
        raise ValueError(msg)
    default = default_settings(config)
    chosen = choose_method(method, method_settings)
    builder = build_mur_graph(
        policy, method=chosen, critic=critic, config=default, interrupt_on_scale=interrupt_on_scale
    )
    return compile_mur_graph(builder, default, chosen, checkpointer=checkpointer, name=name)
