"""What every scaling subgraph shares: the state it reads and sampling N candidate steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from mur_graph.config import MURConfig
from mur_graph.events import emit
from mur_graph.node_types import Node
from mur_graph.seeds import CANDIDATES_CALL
from mur_graph.state import Candidate, Draft, Gate, Kept, KeptUpdate, StepRecord, carry_tool_calls
from mur_graph.step_call import StepCall
from mur_graph.tools.stepping import StepSample


class ScalingState(TypedDict):
    """The parent's keys a scaling subgraph reads, and the `kept` it writes."""

    question: str
    steps: NotRequired[list[StepRecord]]
    draft: Draft
    gate: Gate
    kept: NotRequired[Kept]


class CandidatesState(ScalingState):
    """A scaling state that samples candidates: the candidates and the tokens they cost."""

    candidates: NotRequired[list[Candidate]]
    candidate_tokens: NotRequired[int]


def draft_as_candidate(state: ScalingState) -> Candidate:
    """The draft as candidate 0 (`reuse_draft`); commit_step books its tokens."""
    draft = state["draft"]
    candidate = Candidate(
        text=draft["text"],
        uncertainty=state["gate"]["uncertainty"],
        n_tokens=draft["n_tokens"],
        is_draft=True,
        score=None,
        finish_reason=draft["finish_reason"],
    )
    carry_tool_calls(draft, candidate)
    return candidate


def sample_candidates(
    policy: BaseChatModel, state: ScalingState, step: StepCall
) -> tuple[list[Candidate], int]:
    """Sample the N candidates of step t in one call; return them and the tokens generated.

    With `reuse_draft` the draft is candidate 0 and N-1 new ones are sampled.
    """
    config = step.config
    reused = [draft_as_candidate(state)] if config.reuse_draft else []
    wanted = config.candidates - len(reused)
    if wanted <= 0:
        return reused, 0
    step.announce("candidates")
    samples = step.sample_step(policy, step.policy_prompt(), call=CANDIDATES_CALL, n=wanted)
    fresh = [_candidate(s, step) for s in samples]
    return reused + fresh, sum(s.n_tokens for s in samples)


def _candidate(sample: StepSample, step: StepCall) -> Candidate:
    candidate = Candidate(
        text=step.fmt.body(sample.text),
        uncertainty=sample.uncertainty,
        n_tokens=sample.n_tokens,
        is_draft=False,
        score=None,
        finish_reason=sample.finish_reason,
    )
    if step.config.calculator:
        candidate["tool_calls"] = list(sample.tool_calls)
    return candidate


def lowest_uncertainty(candidates: Sequence[Candidate]) -> int:
    """Index of the candidate with the lowest m_t (highest mean log-prob); ties go to the first.

    The fallback when a method's own scores cannot be read (`selection="logprob_fallback"`).
    """
    return min(range(len(candidates)), key=lambda i: (candidates[i]["uncertainty"], i))


def make_sample_candidates(policy: BaseChatModel, default: MURConfig) -> Node[CandidatesState]:
    """Return the `sample_candidates` node that guided search and φ-decoding share."""

    def sample_candidates_node(state: CandidatesState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        candidates, tokens = sample_candidates(policy, state, StepCall.of(state, runtime, default))
        return {"candidates": candidates, "candidate_tokens": tokens}

    return sample_candidates_node


def keep_candidate(
    method: str,
    candidates: list[Candidate],
    *,
    selected: int,
    selection: str,
    tokens: dict[str, int],
    runtime: Runtime[MURConfig],
    step: int,
) -> KeptUpdate:
    """Return the `kept` update for the chosen candidate, announcing the choice as an event."""
    emit(
        runtime.stream_writer,
        "candidates",
        step=step,
        method=method,
        candidates=candidates,
        selected=selected,
        selection=selection,
    )
    winner = candidates[selected]
    kept = Kept(
        text=winner["text"],
        uncertainty=winner["uncertainty"],
        tokens=tokens,
        method=method,
        keeps_draft=winner["is_draft"],
        candidates=candidates,
        selected=selected,
        selection=selection,
    )
    if "finish_reason" in winner:
        kept["finish_reason"] = winner["finish_reason"]
    carry_tool_calls(winner, kept)
    return {"kept": kept}
