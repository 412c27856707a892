"""commit_step: append the kept step, update the momentum, book the tokens, decide whether to stop."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mur_graph.answers import answer_is_closed, has_answer
from mur_graph.config import MURConfig
from mur_graph.events import emit
from mur_graph.ledger import add_ledgers, ledger_totals
from mur_graph.node_types import Node
from mur_graph.state import CommitUpdate, MURState, StepRecord, StopReason
from mur_graph.step_call import StepCall
from mur_graph.uncertainty import update_momentum


def make_commit_step(
    default: MURConfig,
) -> Node[MURState]:
    """Return the `commit_step` node."""

    def commit_step(state: MURState, *, runtime: Runtime[MURConfig]) -> CommitUpdate:
        draft, gate, kept = state.get("draft"), state.get("gate"), state.get("kept")
        if draft is None or gate is None or kept is None:
            msg = "commit_step needs a draft, a gate decision and a kept step"
            raise ValueError(msg)
        step = StepCall.of(state, runtime, default)
        config, index = step.config, step.index
        previous = state.get("momentum", 0.0)
        # A human-written step has no m̂_t: the momentum skips it.
        momentum = (
            previous
            if kept["uncertainty"] is None
            else update_momentum(previous, kept["uncertainty"], config.alpha)
        )
        # The draft is always booked: as a policy step when it is what was kept, else as discarded.
        draft_kind = "policy_step" if kept["keeps_draft"] else "draft_discarded"
        tokens = add_ledgers({draft_kind: draft["n_tokens"]}, kept["tokens"])
        text = kept["text"] if step.plain else step.fmt.format(index, kept["text"])
        record = StepRecord(
            index=index,
            text=text,
            draft=draft["text"],
            uncertainty=gate["uncertainty"],
            momentum_before=gate["momentum_before"],
            threshold=gate["threshold"],
            gate_fired=gate["fired"],
            scaled=gate["scale"],
            method=kept["method"],
            candidates=kept["candidates"],
            selected=kept["selected"],
            selection=kept["selection"],
            critique=kept.get("critique"),
            kept_uncertainty=kept["uncertainty"],
            momentum_after=momentum,
            tokens=tokens,
            has_answer=has_answer(kept["text"]),
            draft_finish_reason=draft["finish_reason"],
            cut=kept.get("finish_reason") == "length",
        )
        if config.calculator:
            record["tool_calls"] = kept.get("tool_calls", [])
            record["draft_tool_calls"] = draft.get("tool_calls", [])
        spent = ledger_totals(add_ledgers(state.get("ledger"), tokens))["total"]
        stop: StopReason | None = None
        if _answered(step, kept["text"], cut=record["cut"]):
            stop = "answer"
        elif step.plain:  # one call is the whole run: no further step, no fallback
            stop = "single_call"
        elif config.token_budget is not None and spent >= config.token_budget:
            stop = "token_budget"
        elif index + 1 >= config.max_steps:
            stop = "max_steps"
        emit(runtime.stream_writer, "step", record=record)
        return {
            "steps": [record],
            "momentum": momentum,
            "ledger": tokens,
            "stop_reason": stop,
            "draft": None,
            "gate": None,
            "kept": None,
        }

    return commit_step


def _answered(step: StepCall, text: str, *, cut: bool) -> bool:
    r"""Whether the run has its answer once `text` is kept as step t.

    Unheaded, a cut step's paragraph goes on in the next step: the answer is read from the whole
    paragraph, and an answer still open at the cut (`\boxed{4`) waits for the step that ends it.
    """
    if step.fmt.headed or step.plain:
        return has_answer(text)
    paragraph = (step.kept[-1] if step.open_end else "") + text
    return has_answer(paragraph) and not (cut and not answer_is_closed(paragraph))
