"""generate_step: sample the draft of step t from the policy, stopping at the next step header."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig, derive_seed, resolve_config
from mur_graph.events import emit
from mur_graph.node_types import Node
from mur_graph.prompts import policy_messages, step_format
from mur_graph.state import Draft, MURState
from mur_graph.tools.stepping import sample_step

DRAFT_CALL = 0
"""Seed coordinate of the draft call (candidates, critic and fallback use their own)."""


def make_generate_step(policy: BaseChatModel, default: MURConfig) -> Node[MURState]:
    """Return the `generate_step` node bound to `policy`."""

    def generate_step(state: MURState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        config = resolve_config(runtime.context, default)
        if not isinstance(state.get("question"), str) or not state["question"].strip():
            msg = 'the question is empty; invoke the graph with {"question": "<the problem text>"}'
            raise ValueError(msg)
        kept = [step["text"] for step in state.get("steps", [])]
        index = len(kept)
        fmt = step_format(config.step_format)
        emit(runtime.stream_writer, "generating", step=index, what="draft")
        (draft,) = sample_step(
            policy,
            policy_messages(state["question"], kept, index, fmt, calculator=config.calculator),
            n=1,
            stop=fmt.stops(index),
            max_tokens=config.max_step_tokens,
            temperature=config.temperature,
            seed=derive_seed(config.seed, index, DRAFT_CALL),
            calculator=config.calculator,
            max_calls=config.calculator_calls,
            writer=runtime.stream_writer,
            step=index,
        )
        record = Draft(
            index=index,
            text=draft.text.strip(),
            token_logprobs=list(draft.token_logprobs),
            n_tokens=draft.n_tokens,
            finish_reason=draft.finish_reason,
        )
        if config.calculator:
            record["tool_calls"] = list(draft.tool_calls)
        emit(runtime.stream_writer, "draft", step=index, text=record["text"], n_tokens=draft.n_tokens)
        return {"draft": record}

    return generate_step
