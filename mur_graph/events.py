"""Custom stream events, emitted as each decision is made (`stream_mode="custom"`).

Every event is a dict with an `event` key naming its kind; the TypedDicts below are the schema
(`MUREvent` is their union). In the order they come for one step:

- `generating`: a model call starts (`step`, `what`: draft | candidates | critic | critique |
  revision | rollouts | fallback).
- `draft`: the first sample of a step (`step`, `text`, `n_tokens`).
- `gate`: the γ gate's decision (`step`, `uncertainty`, `momentum_before`, `threshold`,
  `fired`, `scale`).
- `review`: a human's choice at the review point of a graph built with `interrupt_on_scale=True`
  (`step`, `action`: scale | accept | edit, `text`: the edited step or None).
- `candidates`: a scaling method's candidates and scores (`step`, `method`, `candidates`,
  `selected`, `selection`).
- `critique`: LLM-as-a-critic's judgement (`step`, `analysis`, `verdict`, `p_yes`, `correct`).
- `tool_call`: a calculator call inside a step (`step`, `tool`, `input`, `output`, `error`).
- `step`: a committed step (`record`: the full `StepRecord`, with the kept text and M_t).
- `final`: the run's end (`answer`, `stop_reason`, `ledger`).

A scaling method may emit events of its own and announce other things in `generating`: it
declares them when registered (`register_scaling_method(..., events=..., awaits=...)`, which
calls `register_events`). `emit` refuses an event nobody declared, so a typo fails in tests
instead of reaching a client that ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal, get_args

from typing_extensions import TypedDict

from mur_graph.state import Candidate, StepRecord, StopReason

StreamWriter = Callable[[Any], None]

Awaited = Literal["draft", "candidates", "critic", "critique", "revision", "rollouts", "fallback"]
"""What a `generating` event of the graph and its built-in methods announces; a method may
declare more (`register_events(awaits=...)`)."""

ReviewAction = Literal["scale", "accept", "edit"]
"""A human's choice at the review point: run the scaling method, keep the draft, or replace it."""


class GeneratingEvent(TypedDict):
    """A model call for step `step` starts."""

    event: Literal["generating"]
    step: int
    what: str
    """An `Awaited` value, or one a scaling method declared."""


class DraftEvent(TypedDict):
    """The draft of step `step` was sampled."""

    event: Literal["draft"]
    step: int
    text: str
    n_tokens: int


class GateEvent(TypedDict):
    """The γ gate judged the draft: scale iff `scale` (the MUR rule's own verdict is `fired`)."""

    event: Literal["gate"]
    step: int
    uncertainty: float
    """m_t of the draft."""
    momentum_before: float
    """M_{t-1}, as compared."""
    threshold: float
    """M_{t-1} + ln(1/γ)."""
    fired: bool
    scale: bool


class ReviewEvent(TypedDict):
    """A human decided what happens to a gated draft (graphs built with `interrupt_on_scale`)."""

    event: Literal["review"]
    step: int
    action: ReviewAction
    text: str | None
    """The human's step body for `edit`; None otherwise."""


class CandidatesEvent(TypedDict):
    """A scaling method scored its candidates and picked one."""

    event: Literal["candidates"]
    step: int
    method: str
    candidates: list[Candidate]
    """Each with its text, m_t, tokens and score (critic P(Yes) or φ's selection probability)."""
    selected: int
    selection: str


class CritiqueEvent(TypedDict):
    """LLM-as-a-critic judged the draft; a draft judged wrong is revised next."""

    event: Literal["critique"]
    step: int
    analysis: str
    verdict: str
    p_yes: float | None
    correct: bool


class ToolCallEvent(TypedDict):
    """A calculator call inside step `step` (with `MURConfig.calculator` on)."""

    event: Literal["tool_call"]
    step: int | None
    tool: str
    input: str
    output: str | None
    error: str | None


class StepEvent(TypedDict):
    """Step `record["index"]` was committed: the kept text, m̂_t, M_t and its tokens."""

    event: Literal["step"]
    record: StepRecord


class FinalEvent(TypedDict):
    """The run ended."""

    event: Literal["final"]
    answer: str | None
    stop_reason: StopReason | None
    ledger: dict[str, int]


MUREvent = (
    GeneratingEvent
    | DraftEvent
    | GateEvent
    | ReviewEvent
    | CandidatesEvent
    | CritiqueEvent
    | ToolCallEvent
    | StepEvent
    | FinalEvent
)
"""Any custom event a MUR graph emits; switch on `event["event"]`."""


_EVENTS: set[str] = {
    "generating",
    "draft",
    "gate",
    "review",
    "candidates",
    "critique",
    "tool_call",
    "step",
    "final",
}
_AWAITED: set[str] = set(get_args(Awaited))


def register_events(*, events: Iterable[str] = (), awaits: Iterable[str] = ()) -> None:
    """Declare a scaling method's own event kinds and what its `generating` events announce.

    Raises:
        ValueError: a name that is not a non-empty string.
    """
    events, awaits = list(events), list(awaits)
    for name in (*events, *awaits):
        if not isinstance(name, str) or not name:
            msg = f"invalid event name {name!r}: must be a non-empty string"
            raise ValueError(msg)
    _EVENTS.update(events)
    _AWAITED.update(awaits)


def event_kinds() -> frozenset[str]:
    """Every event kind `emit` sends: the graph's own and those methods declared."""
    return frozenset(_EVENTS)


def awaited_kinds() -> frozenset[str]:
    """Everything a `generating` event may announce: `Awaited` and what methods declared."""
    return frozenset(_AWAITED)


def emit(writer: StreamWriter | None, event: str, **payload: Any) -> None:
    """Send one custom event through LangGraph's stream writer (a no-op outside streaming).

    Raises:
        ValueError: `event` (or a `generating` event's `what`) was never declared.
    """
    if event not in _EVENTS:
        msg = f"undeclared event {event!r}; declare it with register_scaling_method(..., events=[{event!r}])"
        raise ValueError(msg)
    if event == "generating" and payload.get("what") not in _AWAITED:
        what = payload.get("what")
        msg = (
            f"undeclared generating {what!r}; declare it with register_scaling_method(..., awaits=[{what!r}])"
        )
        raise ValueError(msg)
    if writer is not None:
        writer({"event": event, **payload})
