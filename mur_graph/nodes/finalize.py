"""finalize: the paper's fallback completion when no answer was reached, then the final answer."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from mur_graph.answers import answer_is_closed, extract_answer
from mur_graph.config import MURConfig
from mur_graph.events import emit
from mur_graph.ledger import add_ledgers, ledger_totals
from mur_graph.node_types import Node
from mur_graph.prompts import policy_messages
from mur_graph.seeds import FALLBACK_CALL
from mur_graph.state import Fallback, FinalUpdate, MURState
from mur_graph.step_call import StepCall


def make_finalize(policy: BaseChatModel, default: MURConfig) -> Node[MURState]:
    """Return the `finalize` node bound to `policy`."""

    def finalize(state: MURState, *, runtime: Runtime[MURConfig]) -> FinalUpdate:
        step = StepCall.of(state, runtime, default)
        config, fmt, kept = step.config, step.fmt, step.kept
        spent = ledger_totals(state.get("ledger") or {})["total"]
        budget_left = None if config.token_budget is None else config.token_budget - spent
        fallback: Fallback | None = None
        tokens: dict[str, int] = {}
        if state.get("stop_reason") == "max_steps" and (budget_left is None or budget_left > 0):
            # No answer after max_steps: one unstopped completion (spec §1.7), capped by the budget.
            # It continues after the next step's header; the reference code reuses the last index.
            limit = (
                config.fallback_tokens if budget_left is None else min(config.fallback_tokens, budget_left)
            )
            step.announce("fallback")
            completion = step.sample_if_fits(
                policy,
                policy_messages(step.question, kept, step.index, fmt, open_end=step.open_end),
                call=FALLBACK_CALL,
                max_tokens=limit,
            )
            if completion is not None:  # None: the kept steps filled the context, no room to go on
                fallback = Fallback(
                    text=fmt.body(completion.text),
                    n_tokens=completion.n_tokens,
                    finish_reason=completion.finish_reason,
                )
                tokens = {"fallback": completion.n_tokens}
        units = (
            fmt.extend(kept, fmt.format(step.index, fallback["text"]), open_end=step.open_end)
            if fallback
            else kept
        )
        solution = fmt.solution(units)
        answer = extract_answer(solution)
        # An answer at the very end of text cut by its token limit may itself be cut ("1" of "1100").
        truncated = answer is not None and _ended_on_limit(state, fallback) and not answer_is_closed(solution)
        if truncated:
            answer = None
        ledger = add_ledgers(state.get("ledger"), tokens)
        emit(
            runtime.stream_writer,
            "final",
            answer=answer,
            stop_reason=state.get("stop_reason"),
            ledger=ledger,
        )
        return {
            "fallback": fallback,
            "ledger": tokens,
            "solution": solution,
            "answer": answer,
            "answer_truncated": truncated,
        }

    return finalize


def _ended_on_limit(state: MURState, fallback: Fallback | None) -> bool:
    """Whether the solution's last text stopped on a token limit (the fallback's, or a kept draft's)."""
    if fallback is not None:
        return fallback["finish_reason"] == "length"
    steps = state.get("steps", [])
    return bool(steps) and not steps[-1]["scaled"] and steps[-1].get("draft_finish_reason") == "length"
