"""MUR through create_mur_graph on the real embedded model: every method in every mode."""

import itertools
import math
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from mur_graph import create_mur_graph, paper_config
from mur_graph.ledger import ledger_totals
from tests.fakes import sum_ledgers

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"
METHODS = ("guided_search", "critic", "phi")
MODES = ("mur", "per_step", "cot")
LIMITS = {
    "seed": 0,
    "max_steps": 2,
    "max_step_tokens": 16,
    "candidates": 2,
    "fallback_tokens": 8,
    "critic_tokens": 4,
}
OWN = {"critic": {"critique_tokens": 16}}  # a method's own settings


class GenerationRecorder(BaseCallbackHandler):
    """Keeps every generation the models return during a run."""

    def __init__(self) -> None:
        self.generations: list[Any] = []

    def on_llm_end(self, response, **kwargs):
        for batch in response.generations:
            self.generations.extend(batch)


@pytest.fixture(scope="module")
def runs(embedded):
    results = {}
    for method in METHODS:
        config = paper_config(method, **LIMITS)
        graph = create_mur_graph(embedded, method=method, method_settings=OWN.get(method), config=config)
        for mode in MODES:
            recorder = GenerationRecorder()
            state = graph.invoke(
                {"question": QUESTION}, context=config.replace(mode=mode), config={"callbacks": [recorder]}
            )
            results[method, mode] = (config, state, recorder.generations)
    return results


@pytest.mark.parametrize(("method", "mode"), list(itertools.product(METHODS, MODES)))
def test_logprobs_are_finite_and_the_ledger_equals_the_generated_token_count(runs, embedded, method, mode):
    _, state, generations = runs[method, mode]
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
    assert ledger_totals(sum_ledgers(s["tokens"] for s in state["steps"]))["total"] + fallback == generated


@pytest.mark.parametrize("method", METHODS)
def test_cot_scales_nothing(runs, method):
    _, state, _ = runs[method, "cot"]
    assert state["steps"] and not any(s["scaled"] for s in state["steps"])
    ledger = state["ledger"]
    assert ledger["candidates"] == ledger["critic"] == ledger["rollouts"] == ledger["revision"] == 0


@pytest.mark.parametrize("method", METHODS)
def test_per_step_scales_every_step_and_spends_more_than_mur(runs, method):
    _, per_step, _ = runs[method, "per_step"]
    _, mur, _ = runs[method, "mur"]
    assert all(s["scaled"] for s in per_step["steps"])
    assert ledger_totals(per_step["ledger"])["total"] > ledger_totals(mur["ledger"])["total"]


def test_each_method_leaves_its_own_trace(runs):
    _, guided, _ = runs["guided_search", "per_step"]
    assert all(s["method"] == "guided_search" and len(s["candidates"]) == 2 for s in guided["steps"])
    assert guided["ledger"]["critic"] > 0
    _, critic, _ = runs["critic", "per_step"]
    assert all(s["critique"] is not None and s["critique"]["analysis"] for s in critic["steps"])
    assert critic["ledger"]["critic"] > 0
    _, phi, _ = runs["phi", "per_step"]
    assert all(s["method"] == "phi_foresight" for s in phi["steps"])
    assert phi["ledger"]["rollouts"] > 0 and phi["ledger"]["critic"] == 0


@pytest.mark.parametrize("method", METHODS)
def test_mur_decisions_follow_the_recorded_uncertainties(runs, method):
    config, state, _ = runs[method, "mur"]
    momentum = 0.0
    for step in state["steps"]:
        assert step["momentum_before"] == pytest.approx(momentum)
        assert step["threshold"] == pytest.approx(momentum + math.log(1 / config.gamma))
        assert step["scaled"] == (step["index"] > 0 and step["uncertainty"] > step["threshold"])
        momentum = config.alpha * momentum + (1 - config.alpha) * step["kept_uncertainty"]
        assert step["momentum_after"] == pytest.approx(momentum)
