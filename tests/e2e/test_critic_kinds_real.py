"""Guided search's critic kinds on the real embedded model: same candidates, each kind's winner."""

import pytest

from mur_graph import MURConfig, create_mur_graph
from mur_graph.scaling.critics import choose_by_vote, vote_counts

pytestmark = pytest.mark.real_model

SETTINGS = {
    "mode": "per_step",
    "seed": 0,
    "max_steps": 1,
    "max_step_tokens": 16,
    "candidates": 3,
    "fallback_tokens": 4,
    "critic_tokens": 4,
}


@pytest.fixture(scope="module")
def steps(embedded):
    runs = {}
    for name, kind, changes in [
        ("generative", "generative", {"critic_concurrency": 1}),
        ("generative_concurrent", "generative", {"critic_concurrency": 3}),
        ("confidence", "confidence", {}),
        ("vote", "vote", {}),
    ]:
        config = MURConfig(**SETTINGS, **changes)
        graph = create_mur_graph(embedded, config=config, method_settings={"critic_kind": kind})
        runs[name] = graph.invoke({"question": "What is 17 + 25?"})["steps"][0]
    return runs


def test_every_kind_chooses_among_the_same_seeded_candidates(steps):
    texts = {name: [c["text"] for c in step["candidates"]] for name, step in steps.items()}
    assert len({tuple(t) for t in texts.values()}) == 1
    assert all(step["scaled"] for step in steps.values())


def test_confidence_keeps_the_lowest_uncertainty_and_asks_no_critic(steps):
    step = steps["confidence"]
    uncertainties = [c["uncertainty"] for c in step["candidates"]]
    assert step["selected"] == uncertainties.index(min(uncertainties))
    assert step["selection"] == "confidence" and step["tokens"]["critic"] == 0
    assert [c["score"] for c in step["candidates"]] == pytest.approx([-u for u in uncertainties])


def test_vote_asks_no_critic_and_keeps_the_candidate_its_rule_picks(steps):
    step = steps["vote"]
    assert step["tokens"]["critic"] == 0
    assert [c["score"] for c in step["candidates"]] == vote_counts(step["candidates"])
    assert (step["selected"], step["selection"]) == choose_by_vote(step["candidates"])


def test_concurrent_verdicts_score_like_sequential_ones_on_the_real_model(steps):
    sequential, concurrent = steps["generative"], steps["generative_concurrent"]
    assert sequential["tokens"]["critic"] > 0
    assert [c["score"] for c in concurrent["candidates"]] == pytest.approx(
        [c["score"] for c in sequential["candidates"]], abs=1e-4
    )
    assert concurrent["selected"] == sequential["selected"]
    assert concurrent["tokens"] == sequential["tokens"]
