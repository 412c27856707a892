"""MUR through create_mur_graph on the real embedded model, in each of the three modes."""

import math
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from mur_graph import MURConfig, create_mur_graph
from mur_graph.ledger import ledger_totals, sum_ledgers

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"
SETTINGS = MURConfig(
    seed=0, max_steps=3, max_step_tokens=24, candidates=2, fallback_tokens=16, critic_tokens=4
)


class GenerationRecorder(BaseCallbackHandler):
    """Keeps every generation the models return during a run."""

    def __init__(self) -> None:
        self.generations: list[Any] = []

    def on_llm_end(self, response, **kwargs):
        for batch in response.generations:
            self.generations.extend(batch)


@pytest.fixture(scope="module")
def runs(embedded):
    graph = create_mur_graph(embedded, config=SETTINGS)
    results = {}
    for mode in ("mur", "per_step", "cot"):
        recorder = GenerationRecorder()
        state = graph.invoke(
            {"question": QUESTION}, context=SETTINGS.replace(mode=mode), config={"callbacks": [recorder]}
        )
        results[mode] = (state, recorder.generations)
    return results


@pytest.mark.parametrize("mode", ["mur", "per_step", "cot"])
def test_every_logprob_is_finite_and_the_ledger_equals_the_generated_token_count(runs, embedded, mode):
    state, generations = runs[mode]
    assert generations, "no model call was recorded"
    generated = 0
    for generation in generations:
        entries = generation.message.response_metadata["logprobs"]["content"]
        assert entries and all(math.isfinite(e["logprob"]) for e in entries)
        ids = generation.generation_info["token_ids"]
        assert len(ids) == len(entries)
        assert embedded.tokenizer.decode(ids, skip_special_tokens=True).startswith(generation.message.content)
        generated += len(ids)
    assert ledger_totals(state["ledger"])["total"] == generated
    fallback = state["fallback"]["n_tokens"] if state["fallback"] else 0
    assert sum_ledgers(s["tokens"] for s in state["steps"])["fallback"] == 0
    assert ledger_totals(sum_ledgers(s["tokens"] for s in state["steps"]))["total"] + fallback == generated


def test_cot_scales_nothing(runs):
    state, _ = runs["cot"]
    assert state["steps"] and not any(s["scaled"] for s in state["steps"])
    assert state["ledger"]["candidates"] == state["ledger"]["critic"] == 0


def test_per_step_scales_every_step_and_spends_more_than_mur(runs):
    per_step, _ = runs["per_step"]
    mur, _ = runs["mur"]
    assert all(s["scaled"] for s in per_step["steps"])
    assert ledger_totals(per_step["ledger"])["total"] > ledger_totals(mur["ledger"])["total"]


def test_mur_decisions_follow_the_recorded_uncertainties(runs):
    state, _ = runs["mur"]
    momentum = 0.0
    for step in state["steps"]:
        assert step["momentum_before"] == pytest.approx(momentum)
        assert step["threshold"] == pytest.approx(momentum + math.log(1 / SETTINGS.gamma))
        assert step["scaled"] == (step["index"] > 0 and step["uncertainty"] > step["threshold"])
        momentum = SETTINGS.alpha * momentum + (1 - SETTINGS.alpha) * step["kept_uncertainty"]
        assert step["momentum_after"] == pytest.approx(momentum)
