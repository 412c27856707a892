"""The compiled MUR graph as a Runnable: invoke, ainvoke, batch, abatch, stream, astream."""

import asyncio
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from mur_graph import create_mur_graph, paper_config
from mur_graph.ledger import empty_ledger
from tests.fakes import ScriptedChatModel, prompted, say, verdict
from tests.unit.test_graph_scripted import mur_script

SUM = "What is 17 + 25?"  # mur_script: 3 steps, the third scaled, answer 42
SMALL = "What is 2 + 3?"


def small_script():
    return [[say("2 + 3 = 5, so the answer is 5.", -0.1, -0.3)]]


class PerQuestionModel(BaseChatModel):
    """Routes each call to the scripted model of the question in its prompt (safe in batches)."""

    models: dict[str, ScriptedChatModel]

    @property
    def _llm_type(self) -> str:
        return "scripted-per-question"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = "\n".join(m.text for m in messages)
        (question,) = [q for q in self.models if q in prompt]
        return self.models[question]._generate(messages, stop, **kwargs)


def graph_for(*questions):
    models = {q: ScriptedChatModel(script={SUM: mur_script(), SMALL: small_script()}[q]) for q in questions}
    graph = create_mur_graph(PerQuestionModel(models=models), config=prompted(candidates=2))
    return graph, models


SMALL_STEP = {
    "index": 0,
    "text": "Step0: 2 + 3 = 5, so the answer is 5.",
    "draft": "2 + 3 = 5, so the answer is 5.",
    "uncertainty": pytest.approx(0.2),
    "momentum_before": 0.0,
    "threshold": pytest.approx(0.22314355),
    "gate_fired": False,
    "scaled": False,
    "method": None,
    "candidates": [],
    "selected": None,
    "selection": None,
    "critique": None,
    "kept_uncertainty": pytest.approx(0.2),
    "momentum_after": pytest.approx(0.02),
    "tokens": {**empty_ledger(), "policy_step": 2},
    "has_answer": True,
    "draft_finish_reason": "stop",
    "cut": False,
}
SMALL_OUTPUT = {
    "question": SMALL,
    "steps": [SMALL_STEP],
    "momentum": pytest.approx(0.02),
    "draft": None,
    "gate": None,
    "kept": None,
    "ledger": {**empty_ledger(), "policy_step": 2},
    "stop_reason": "answer",
    "fallback": None,
    "answer": "5",
    "answer_truncated": False,
    "solution": "Step0: 2 + 3 = 5, so the answer is 5.",
}
SUM_LEDGER = {**empty_ledger(), "policy_step": 5, "draft_discarded": 2, "candidates": 5, "critic": 4}


def test_invoke_returns_the_whole_output_state():
    graph, models = graph_for(SMALL)
    assert graph.invoke({"question": SMALL}) == SMALL_OUTPUT
    assert models[SMALL].remaining == 0


def test_ainvoke_gives_what_invoke_gives():
    graph, models = graph_for(SMALL)
    assert asyncio.run(graph.ainvoke({"question": SMALL})) == SMALL_OUTPUT
    assert models[SMALL].remaining == 0


def _summary(state):
    return state["answer"], state["stop_reason"], [s["scaled"] for s in state["steps"]], state["ledger"]


EXPECTED_BATCH = [
    ("42", "answer", [False, False, True], SUM_LEDGER),
    ("5", "answer", [False], SMALL_OUTPUT["ledger"]),
]


def test_batch_runs_questions_concurrently_each_on_its_own_trace():
    graph, models = graph_for(SUM, SMALL)
    states = graph.batch([{"question": SUM}, {"question": SMALL}], {"max_concurrency": 2})
    assert [_summary(s) for s in states] == EXPECTED_BATCH
    assert states[1] == SMALL_OUTPUT
    assert all(m.remaining == 0 for m in models.values())


def test_abatch_gives_what_batch_gives():
    graph, models = graph_for(SUM, SMALL)
    states = asyncio.run(graph.abatch([{"question": SUM}, {"question": SMALL}]))
    assert [_summary(s) for s in states] == EXPECTED_BATCH
    assert all(m.remaining == 0 for m in models.values())


NODE_ORDER = [
    *["generate_step", "assess_uncertainty", "accept", "commit_step"] * 2,
    *["generate_step", "assess_uncertainty", "guided_search", "commit_step", "finalize"],
]


def test_stream_updates_follow_the_graph_node_by_node():
    graph, _ = graph_for(SUM)
    updates = list(graph.stream({"question": SUM}, stream_mode="updates"))
    assert [next(iter(u)) for u in updates] == NODE_ORDER
    assert updates[9]["assess_uncertainty"]["gate"]["scale"] is True
    assert updates[10]["guided_search"]["kept"]["selected"] == 1
    assert updates[-1]["finalize"]["answer"] == "42"


def test_astream_gives_the_same_updates_and_custom_events_as_stream():
    async def collect(graph):
        return [item async for item in graph.astream({"question": SUM}, stream_mode=["updates", "custom"])]

    sync_graph, _ = graph_for(SUM)
    async_graph, models = graph_for(SUM)
    expected = list(sync_graph.stream({"question": SUM}, stream_mode=["updates", "custom"]))
    got = asyncio.run(collect(async_graph))
    assert got == expected
    assert [next(iter(data)) for mode, data in got if mode == "updates"] == NODE_ORDER
    assert [data["event"] for mode, data in got if mode == "custom"][-1] == "final"
    assert models[SUM].remaining == 0


def test_llm_as_a_critic_streams_its_critique_before_the_revised_step():
    policy = ScriptedChatModel(
        script=[
            [say("Add them.", -0.1)],
            [say("17 + 25 = 32.", -3.0)],  # m=3 > 0.01 + ln(1/0.9): critiqued
            [say("17 + 25 = 42, so the answer is 42", -0.4, -0.2)],  # the revision
        ]
    )
    critic = ScriptedChatModel(script=[[say("The sum is wrong.", -0.2, -0.2)], [verdict(0.1)]])
    graph = create_mur_graph(policy, method="critic", critic=critic, config=paper_config("critic"))
    events = [data for _, _, data in graph.stream({"question": SUM}, stream_mode=["custom"], subgraphs=True)]
    assert [(e["event"], e.get("what")) for e in events] == [
        ("generating", "draft"),
        ("draft", None),
        ("gate", None),
        ("step", None),
        ("generating", "draft"),
        ("draft", None),
        ("gate", None),
        ("generating", "critique"),
        ("critique", None),
        ("generating", "revision"),
        ("step", None),
        ("final", None),
    ]
    assert events[8] == {
        "event": "critique",
        "step": 1,
        "analysis": "The sum is wrong.",
        "verdict": "Yes",
        "p_yes": pytest.approx(0.1),
        "correct": False,
    }
    kept = events[10]["record"]
    assert (kept["text"], kept["selection"], kept["kept_uncertainty"]) == (
        "Step1: 17 + 25 = 42, so the answer is 42",
        "revised",
        pytest.approx(0.3),
    )
