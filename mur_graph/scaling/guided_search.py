"""guided_search: N candidate steps in one call, each scored by the critic, best one kept (spec §2.1).

Subgraph: sample_candidates → score_candidates → select_candidate. The critic's score of a
candidate is P(Yes) to "is this step correct", read from its log-probs at the verdict slot. When
no verdict can be read for any candidate, the candidate with the lowest uncertainty (highest mean
log-prob) is kept and the step record says `selection="logprob_fallback"`.
"""

from __future__ import annotations

from typing import Any, NotRequired

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig, derive_seed, resolve_config
from mur_graph.events import emit
from mur_graph.models.contract import sample
from mur_graph.node_types import Node
from mur_graph.prompts import critic_messages, step_format
from mur_graph.scaling.candidates import (
    CandidatesState,
    keep_candidate,
    kept_steps,
    lowest_uncertainty,
    make_sample_candidates,
)
from mur_graph.scoring import yes_probability
from mur_graph.state import Candidate, ScalingOutput

METHOD = "guided_search"
CRITIC_CALL = 2
CRITIC_TOP_LOGPROBS = 10


class GuidedSearchState(CandidatesState):
    """The parent's keys, plus the candidates and the tokens spent on them."""

    critic_tokens: NotRequired[int]


def build_guided_search_subgraph(
    *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the compiled guided-search subgraph; it writes only `kept` back to the parent."""
    builder = StateGraph(GuidedSearchState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("sample_candidates", make_sample_candidates(policy, default))
    builder.add_node("score_candidates", _make_score_candidates(critic, default))
    builder.add_node("select_candidate", select_candidate)
    builder.add_edge(START, "sample_candidates")
    builder.add_edge("sample_candidates", "score_candidates")
    builder.add_edge("score_candidates", "select_candidate")
    builder.add_edge("select_candidate", END)
    return builder.compile(name=METHOD)


def _make_score_candidates(critic: BaseChatModel, default: MURConfig) -> Node[GuidedSearchState]:
    def score_candidates(state: GuidedSearchState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        config = resolve_config(runtime.context, default)
        fmt = step_format(config.step_format)
        index = state["draft"]["index"]
        kept = kept_steps(state)
        emit(runtime.stream_writer, "generating", step=index, what="critic")
        scored: list[Candidate] = []
        critic_tokens = 0
        for i, candidate in enumerate(state.get("candidates", [])):
            # Greedy verdicts: the score is read from the distribution at the verdict slot, so
            # sampling would only add noise to the tokens before it.
            (verdict,) = sample(
                critic,
                critic_messages(state["question"], kept, candidate["text"], fmt),
                n=1,
                max_tokens=config.critic_tokens,
                temperature=0.0,
                seed=derive_seed(config.seed, index, CRITIC_CALL, i),
                top_logprobs=CRITIC_TOP_LOGPROBS,
            )
            critic_tokens += verdict.n_tokens
            scored.append({**candidate, "score": yes_probability(verdict.top_logprobs)})
        return {"candidates": scored, "critic_tokens": critic_tokens}

    return score_candidates


def choose(candidates: list[Candidate]) -> tuple[int, str]:
    """Return the index of the candidate to keep and how it was chosen.

    Highest critic score wins (ties: the first, as in the reference code); candidates whose
    verdict was unreadable rank below all scored ones. With no readable verdict at all, the
    lowest uncertainty wins (`logprob_fallback`).
    """
    if not candidates:
        msg = "guided search got no candidates to choose from"
        raise ValueError(msg)
    scored = [(c["score"], -i) for i, c in enumerate(candidates) if c["score"] is not None]
    if scored:
        _, neg_index = max(scored)
        return -neg_index, "critic"
    return lowest_uncertainty(candidates), "logprob_fallback"


def select_candidate(state: GuidedSearchState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
    """Keep the best candidate; book every new candidate's and every verdict's tokens."""
    candidates = state.get("candidates", [])
    selected, selection = choose(candidates)
    tokens = {"candidates": state.get("candidate_tokens", 0), "critic": state.get("critic_tokens", 0)}
    return keep_candidate(METHOD, candidates, selected, selection, tokens, runtime, state["draft"]["index"])
