"""generate_step: sample the draft of step t from the policy, stopping at the next step header.

When the kept steps have filled the model's context, so that step t's prompt no longer fits, the
run stops there (`stop_reason="context_full"`) and `finalize` reads the answer from what was kept,
as the model run plainly stops when its one call fills the context. A question that does not fit
on its own still raises `ContextLengthError`, which names the fix.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig
from mur_graph.events import emit
from mur_graph.models.errors import ContextLengthError
from mur_graph.node_types import Node
from mur_graph.seeds import DRAFT_CALL
from mur_graph.state import ContextFullUpdate, Draft, DraftUpdate, MURState
from mur_graph.step_call import StepCall


def make_generate_step(policy: BaseChatModel, default: MURConfig) -> Node[MURState]:
    """Return the `generate_step` node bound to `policy`."""

    def generate_step(state: MURState, *, runtime: Runtime[MURConfig]) -> DraftUpdate | ContextFullUpdate:
        if not isinstance(state.get("question"), str) or not state["question"].strip():
            msg = 'the question is empty; invoke the graph with {"question": "<the problem text>"}'
            raise ValueError(msg)
        step = StepCall.of(state, runtime, default)
        step.announce("draft")
        # Plain mode's one call is sampled at the run's temperature; a step's draft at its own.
        temperature = None if step.plain else step.config.draft_temperature
        try:
            (draft,) = step.sample_step(
                policy, step.policy_prompt(), call=DRAFT_CALL, temperature=temperature
            )
        except ContextLengthError:
            if step.plain or not state.get("steps"):
                raise  # the question alone does not fit
            return {"draft": None, "stop_reason": "context_full"}
        record = Draft(
            index=step.index,
            text=step.fmt.body(draft.text),
            token_logprobs=list(draft.token_logprobs),
            n_tokens=draft.n_tokens,
            finish_reason=draft.finish_reason,
        )
        if step.config.calculator:
            record["tool_calls"] = list(draft.tool_calls)
        emit(runtime.stream_writer, "draft", step=step.index, text=record["text"], n_tokens=draft.n_tokens)
        return {"draft": record}

    return generate_step
