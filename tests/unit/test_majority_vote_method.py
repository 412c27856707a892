"""A fourth scaling method added from outside the library: best-of-N with a majority vote.

The method lives in this file and registers itself with `register_scaling_method`; no library
file knows it. It samples N candidates like guided search (`make_sample_candidates`), keeps the
first candidate whose final answer most candidates share, and books every candidate's tokens.
"""

from collections import Counter
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

import mur_graph.scaling as scaling
from mur_graph import MURConfig, create_mur_graph, paper_config, register_scaling_method
from mur_graph.answers import extract_answer
from mur_graph.ledger import empty_ledger
from mur_graph.scaling import ALIASES, canonical_method, scaling_methods
from mur_graph.scaling.candidates import (
    CandidatesState,
    keep_candidate,
    lowest_uncertainty,
    make_sample_candidates,
)
from mur_graph.state import ScalingOutput
from tests.fakes import ScriptedChatModel, say

METHOD = "majority_vote"


def majority(answers: list[str | None]) -> int | None:
    """Index of the first candidate holding the most common answer; None when none answers."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    top = max(counts.values())
    return next(i for i, a in enumerate(answers) if a is not None and counts[a] == top)


def build_majority_vote_subgraph(*, policy, critic, default):
    """sample_candidates → vote: the critic is not used."""

    def vote(state: CandidatesState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        candidates = state.get("candidates", [])
        winner = majority([extract_answer(c["text"]) for c in candidates])
        selected, selection = (
            (lowest_uncertainty(candidates), "logprob_fallback") if winner is None else (winner, "majority")
        )
        tokens = {"candidates": state.get("candidate_tokens", 0)}
        return keep_candidate(
            METHOD,
            candidates,
            selected=selected,
            selection=selection,
            tokens=tokens,
            runtime=runtime,
            step=state["draft"]["index"],
        )

    builder = StateGraph(CandidatesState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("sample_candidates", make_sample_candidates(policy, default))
    builder.add_node("vote", vote)
    builder.add_edge(START, "sample_candidates")
    builder.add_edge("sample_candidates", "vote")
    builder.add_edge("vote", END)
    return builder.compile(name=METHOD)


@pytest.fixture
def majority_vote(monkeypatch):
    """The method registered for one test (the registry is restored afterwards)."""
    monkeypatch.setattr(scaling, "_REGISTRY", dict(scaling._REGISTRY))
    register_scaling_method(METHOD, build_majority_vote_subgraph, aliases=("vote_n",), paper_gamma=0.85)
    return METHOD


def test_the_majority_answer_wins_and_every_candidate_is_booked(majority_vote):
    script = [
        [say("Add the numbers.", -0.5)],  # the draft: per_step scales it
        [
            say("So the answer is 41.", -0.1, -0.1),  # the most confident, but alone
            say("17 + 25 = 42, the answer is 42.", -0.9, -0.9, -0.9),
            say("The answer is 42", -0.8, -0.8),
        ],
    ]
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(
        model, method="vote_n", config=MURConfig(mode="per_step", candidates=3, max_steps=1)
    )
    state = graph.invoke({"question": "What is 17 + 25?"})

    assert model.remaining == 0
    (step,) = state["steps"]
    assert (step["method"], step["selected"], step["selection"]) == (METHOD, 1, "majority")
    assert state["answer"] == "42"
    assert [c["n_tokens"] for c in step["candidates"]] == [2, 3, 2]
    assert state["ledger"] == {**empty_ledger(), "draft_discarded": 1, "candidates": 7}
    assert graph.mur_method.name == "vote_n" and graph.mur_method.canonical == METHOD
    assert graph.settings_record()["method"] == "vote_n" and METHOD in graph.get_graph().nodes


def test_registration_owns_the_alias_and_the_papers_gamma(majority_vote):
    assert METHOD in scaling_methods() and ALIASES["vote_n"] == METHOD
    assert canonical_method("vote_n") == METHOD
    assert paper_config("vote_n").gamma == paper_config(METHOD).gamma == 0.85
    with pytest.raises(ValueError, match="alias 'critic' of 'beam' already names 'critic_refine'"):
        register_scaling_method("beam", build_majority_vote_subgraph, aliases=("critic",))
    with pytest.raises(ValueError, match="'vote_n' is an alias of 'majority_vote'"):
        register_scaling_method("vote_n", build_majority_vote_subgraph)
    with pytest.raises(ValueError, match=r"paper_gamma=1.5 of 'beam' must be in \(0, 1\]"):
        register_scaling_method("beam", build_majority_vote_subgraph, paper_gamma=1.5)


def test_without_any_answer_the_most_confident_candidate_is_kept(majority_vote):
    script = [[say("Think.", -0.5)], [say("Add 17.", -0.6), say("Add 25.", -0.2)], [say("42", -0.1)]]
    graph = create_mur_graph(
        ScriptedChatModel(script=script),
        method=METHOD,
        config=MURConfig(mode="per_step", candidates=2, max_steps=1),
    )
    state = graph.invoke({"question": "What is 17 + 25?"})
    (step,) = state["steps"]
    assert (step["selected"], step["selection"]) == (1, "logprob_fallback")
    assert state["ledger"] == {**empty_ledger(), "draft_discarded": 1, "candidates": 2, "fallback": 1}
