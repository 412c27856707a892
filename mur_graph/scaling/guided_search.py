"""guided_search: N candidate steps in one call, each scored, the best one kept (spec §2.1).

Subgraph: sample_candidates → score_candidates → select_candidate. How candidates are scored and
chosen is the graph's critic kind (`GuidedSearchSettings.critic_kind`, `mur_graph.scaling.critics`): the
paper's generative critic (P(Yes) read from the critic's log-probs at the verdict slot, the N
verdicts asked concurrently), `confidence` (lowest m_t) or `vote` (agreeing answers). When no
verdict can be read for any candidate, the candidate with the lowest uncertainty (highest mean
log-prob) is kept and the step record says `selection="logprob_fallback"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig
from mur_graph.node_types import Node
from mur_graph.scaling.candidates import CandidatesState, keep_candidate, make_sample_candidates
from mur_graph.scaling.critics import CriticKind, ScoreRequest, get_critic_kind
from mur_graph.state import Candidate, KeptUpdate, ScalingOutput
from mur_graph.step_call import StepCall

METHOD = "guided_search"


@dataclass(frozen=True)
class GuidedSearchSettings:
    """Guided search's own settings (`create_mur_graph(policy, method_settings=...)`)."""

    critic_kind: str = "generative"
    """How the candidates are scored and one chosen: `generative` (the critic model's P(Yes), the
    paper), `confidence` (lowest m_t) or `vote` (agreeing answers); see `critic_kinds()`."""

    def __post_init__(self) -> None:
        if not isinstance(self.critic_kind, str) or not self.critic_kind:
            kind = self.critic_kind
            msg = f"invalid MUR setting critic_kind={kind!r}: must be the name of a registered critic kind"
            raise ValueError(msg)
        get_critic_kind(self.critic_kind)  # an unknown kind fails when the settings are made


class GuidedSearchState(CandidatesState):
    """The parent's keys, plus the candidates and the tokens spent on them."""

    critic_tokens: NotRequired[int]


def build_guided_search_subgraph(
    *,
    policy: BaseChatModel,
    critic: BaseChatModel,
    default: MURConfig,
    settings: GuidedSearchSettings | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the compiled guided-search subgraph; it writes only `kept` back to the parent."""
    kind = get_critic_kind((settings or GuidedSearchSettings()).critic_kind)
    builder = StateGraph(GuidedSearchState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("sample_candidates", make_sample_candidates(policy, default))
    builder.add_node("score_candidates", _make_score_candidates(critic, default, kind))
    builder.add_node("select_candidate", _make_select_candidate(default, kind))
    builder.add_edge(START, "sample_candidates")
    builder.add_edge("sample_candidates", "score_candidates")
    builder.add_edge("score_candidates", "select_candidate")
    builder.add_edge("select_candidate", END)
    return builder.compile(name=METHOD)


def _make_score_candidates(
    critic: BaseChatModel, default: MURConfig, kind: CriticKind
) -> Node[GuidedSearchState]:
    def score_candidates(state: GuidedSearchState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        step = StepCall.of(state, runtime, default)
        candidates = state.get("candidates", [])
        if kind.asks_critic:
            step.announce("critic")
        request = ScoreRequest(
            step.question, step.kept, candidates, step.index, step.config, critic, open_end=step.open_end
        )
        result = kind.score(request)
        if len(result.scores) != len(candidates):
            msg = (
                f"critic kind {kind.name!r} gave {len(result.scores)} scores for {len(candidates)} candidates"
            )
            raise ValueError(msg)
        scored: list[Candidate] = [
            {**c, "score": score} for c, score in zip(candidates, result.scores, strict=True)
        ]
        return {"candidates": scored, "critic_tokens": result.critic_tokens}

    return score_candidates


def _make_select_candidate(default: MURConfig, kind: CriticKind) -> Node[GuidedSearchState]:
    def select_candidate(state: GuidedSearchState, *, runtime: Runtime[MURConfig]) -> KeptUpdate:
        """Keep the candidate the critic kind chooses; book every candidate's and verdict's tokens."""
        step = StepCall.of(state, runtime, default)
        candidates = state.get("candidates", [])
        selected, selection = kind.choose(candidates)
        tokens = {"candidates": state.get("candidate_tokens", 0), "critic": state.get("critic_tokens", 0)}
        return keep_candidate(
            METHOD,
            candidates,
            selected=selected,
            selection=selection,
            tokens=tokens,
            runtime=runtime,
            step=step.index,
        )

    return select_candidate
