"""review_scale: a human decides whether a gated draft is scaled (`interrupt_on_scale=True`).

The node sits between the γ edge and the scaling subgraph. It pauses the run with
`langgraph.types.interrupt(ReviewRequest)` and resumes with `Command(resume=...)` carrying one of:

- `{"action": "scale"}` (or `"scale"`): run the scaling method as MUR decided.
- `{"action": "accept"}` (or `"accept"`): keep the draft as it is (`selection="human_accept"`);
  the momentum is updated with the draft's m_t, as for any accepted step.
- `{"action": "edit", "text": "..."}`: keep the human's step instead (`selection="human_edit"`).
  The text has no model log-probs, so it has no m̂_t: the record's `kept_uncertainty` is None
  and the momentum stays M_{t-1}. The discarded draft is still booked (`draft_discarded`).

Accepted and edited steps are not scaled: their record says `gate_fired=True, scaled=False`.
An invalid resume value does not end the run (LangGraph would replay it on every later resume):
the run pauses again at the same step, with the reason in the request's `error`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from typing_extensions import TypedDict

from mur_graph.config import MURConfig, resolve_config
from mur_graph.events import ReviewAction, emit
from mur_graph.node_types import Node
from mur_graph.nodes.accept import accept
from mur_graph.prompts import StepFormat, step_format
from mur_graph.state import MURState, ReviewUpdate

ACTIONS: tuple[ReviewAction, ...] = ("scale", "accept", "edit")


class ReviewRequest(TypedDict):
    """What the run shows the human when it pauses (the interrupt's value)."""

    question: str
    step: int
    draft: str
    """The draft that tripped the gate."""
    uncertainty: float
    """m_t of the draft."""
    momentum_before: float
    threshold: float
    method: str
    """The scaling method that runs on `scale`."""
    actions: list[str]
    error: str | None
    """Why the previous resume value was refused; None on the first request."""


class ReviewDecision(TypedDict):
    """A validated resume value."""

    action: ReviewAction
    text: str | None


def parse_review(value: object, fmt: StepFormat | None = None) -> ReviewDecision:
    """Validate a resume value: `"scale"`, `"accept"`, or a dict with `action` (and `text` for edit).

    An edited step loses a leading header of `fmt` (default: `MURConfig`'s default step format's;
    the `prompted` format's is `StepK:`).

    Raises:
        ValueError: anything else, with the accepted forms in the message.
    """
    usage = (
        'resume with Command(resume={"action": "scale"}), {"action": "accept"} '
        'or {"action": "edit", "text": "<the step>"}'
    )
    if isinstance(value, str):
        value = {"action": value}
    if not isinstance(value, Mapping):
        msg = f"invalid review decision {value!r}: {usage}"
        raise ValueError(msg)
    decision = cast(Mapping[str, Any], value)
    action = decision.get("action")
    if action not in ACTIONS:
        msg = f"invalid review action {action!r}: {usage}"
        raise ValueError(msg)
    unknown = set(decision) - {"action", "text"}
    if unknown:
        msg = f"unknown keys {sorted(unknown)} in review decision: {usage}"
        raise ValueError(msg)
    text = decision.get("text")
    if action != "edit":
        if text is not None:
            msg = f'"text" is only read with action "edit", got it with {action!r}: {usage}'
            raise ValueError(msg)
        return ReviewDecision(action=action, text=None)
    # The step's header is added back when the step is committed.
    body = (fmt or step_format(MURConfig().step_format)).strip_header(text) if isinstance(text, str) else ""
    if not body:
        msg = f'action "edit" needs the new step as a non-empty "text" string: {usage}'
        raise ValueError(msg)
    return ReviewDecision(action="edit", text=body)


def make_review_scale(method: str, default: MURConfig | None = None) -> Node[MURState]:
    """Return the `review_scale` node for a graph whose scaling node is `method`; `default`: its settings."""

    def review_scale(state: MURState, *, runtime: Runtime[MURConfig]) -> ReviewUpdate:
        draft, gate = state.get("draft"), state.get("gate")
        if draft is None or gate is None:
            msg = "review_scale needs a draft and a gate decision; assess_uncertainty must run first"
            raise ValueError(msg)
        request = ReviewRequest(
            question=state["question"],
            step=draft["index"],
            draft=draft["text"],
            uncertainty=gate["uncertainty"],
            momentum_before=gate["momentum_before"],
            threshold=gate["threshold"],
            method=method,
            actions=list(ACTIONS),
            error=None,
        )
        value = interrupt(request)
        fmt = step_format(resolve_config(runtime.context, default or MURConfig()).step_format)
        while True:
            try:
                decision = parse_review(value, fmt)
                break
            except ValueError as exc:
                value = interrupt(ReviewRequest(**{**request, "error": str(exc)}))
        emit(runtime.stream_writer, "review", step=draft["index"], **decision)
        if decision["action"] == "scale":
            return {}
        kept = accept(state)["kept"]  # the draft, with its m_t
        if decision["text"] is None:
            kept["selection"] = "human_accept"
        else:
            kept["text"], kept["uncertainty"] = decision["text"], None
            kept["keeps_draft"], kept["selection"] = False, "human_edit"
            kept.pop("tool_calls", None)  # the draft's calculator calls are not in the human's text
        return {"kept": kept, "gate": {**gate, "scale": False}}

    return review_scale
