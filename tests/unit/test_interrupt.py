"""Checkpointing and human review: pause before scaling, resume with Command(resume=...)."""

import asyncio
import math
import sqlite3
from collections.abc import Iterator

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from mur_graph import create_mur_graph, paper_config
from mur_graph.ledger import empty_ledger
from mur_graph.nodes.review_scale import parse_review
from mur_graph.prompts import step_format
from tests.fakes import ScriptedChatModel, prompted, say, verdict
from tests.unit.test_graph_scripted import mur_script

QUESTION = "What is 17 + 25?"
THREAD = {"configurable": {"thread_id": "review-1"}}
CONFIG = prompted(candidates=2, gamma=0.8, alpha=0.9)
USAGE = (
    'resume with Command(resume={"action": "scale"}), {"action": "accept"} '
    'or {"action": "edit", "text": "<the step>"}'
)
BEFORE_SCALING = mur_script()[:3]  # two accepted steps and the draft of step 2, which trips the gate
SCALING = mur_script()[3:]  # the candidates and their two verdicts


@pytest.fixture(params=["memory", "sqlite"])
def saver(request, tmp_path) -> Iterator:
    """Returns a checkpointer factory: the same InMemorySaver, or a new connection to one SQLite file."""
    if request.param == "memory":
        memory = InMemorySaver()
        yield lambda: memory
        return
    connections: list[sqlite3.Connection] = []

    def connect() -> SqliteSaver:
        connections.append(sqlite3.connect(tmp_path / "checkpoints.sqlite", check_same_thread=False))
        return SqliteSaver(connections[-1])

    yield connect
    for connection in connections:
        connection.close()


def paused_graph(saver, script):
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, config=CONFIG, checkpointer=saver(), interrupt_on_scale=True)
    return model, graph


def pause(saver, script=BEFORE_SCALING):
    model, graph = paused_graph(saver, script)
    state = graph.invoke({"question": QUESTION}, THREAD)
    (request,) = state["__interrupt__"]
    return model, graph, state, request.value


def test_review_needs_a_checkpointer_and_says_how_to_add_one():
    with pytest.raises(ValueError, match=r"needs a checkpointer.*checkpointer=InMemorySaver\(\)"):
        create_mur_graph(ScriptedChatModel(script=[]), interrupt_on_scale=True)


def test_the_run_pauses_before_scaling_and_shows_the_draft_and_the_gate(saver):
    model, graph, state, request = pause(saver)
    assert request == {
        "question": QUESTION,
        "step": 2,
        "draft": "So it is 41.",
        "uncertainty": pytest.approx(0.8),
        "momentum_before": pytest.approx(0.11),
        "threshold": pytest.approx(0.11 + math.log(1 / 0.8)),
        "method": "guided_search",
        "actions": ["scale", "accept", "edit"],
        "error": None,
    }
    assert [s["index"] for s in state["steps"]] == [0, 1]
    assert graph.get_state(THREAD).next == ("review_scale",)
    assert model.remaining == 0  # nothing was sampled for scaling yet


def test_scale_runs_the_method_as_if_no_one_had_asked(saver):
    model, graph, _, _ = pause(saver, mur_script())
    events = [
        data
        for _, _, data in graph.stream(
            Command(resume={"action": "scale"}), THREAD, stream_mode=["custom"], subgraphs=True
        )
    ]
    assert events[0] == {"event": "review", "step": 2, "action": "scale", "text": None}
    state = graph.get_state(THREAD).values
    uninterrupted = create_mur_graph(ScriptedChatModel(script=mur_script()), config=CONFIG).invoke(
        {"question": QUESTION}
    )
    assert state == uninterrupted
    assert state["steps"][2]["selection"] == "critic" and state["answer"] == "42"
    assert model.remaining == 0


def test_accept_keeps_the_draft_unscaled_and_updates_the_momentum_with_its_m_t(saver):
    model, graph, _, _ = pause(saver, [*BEFORE_SCALING, [say("the answer is 41", -0.1)]])
    state = graph.invoke(Command(resume={"action": "accept"}), THREAD)
    step = state["steps"][2]
    assert (step["text"], step["gate_fired"], step["scaled"]) == ("Step2: So it is 41.", True, False)
    assert (step["selection"], step["method"], step["candidates"]) == ("human_accept", None, [])
    assert step["kept_uncertainty"] == pytest.approx(0.8)
    assert step["momentum_after"] == pytest.approx(0.9 * 0.11 + 0.1 * 0.8)
    assert step["tokens"] == {**empty_ledger(), "policy_step": 2}
    assert state["ledger"] == {**empty_ledger(), "policy_step": 2 + 3 + 2 + 1}
    assert state["answer"] == "41" and model.remaining == 0


def test_edit_keeps_the_human_step_and_leaves_the_momentum_unchanged(saver):
    model, graph, _, _ = pause(saver, [*BEFORE_SCALING, [say("So the answer is 42.", -0.1)]])
    state = graph.invoke(Command(resume={"action": "edit", "text": "Step2: 17 + 25 = 42."}), THREAD)
    step = state["steps"][2]
    assert (step["text"], step["draft"]) == ("Step2: 17 + 25 = 42.", "So it is 41.")
    assert (step["gate_fired"], step["scaled"], step["selection"]) == (True, False, "human_edit")
    # no log-probs for a human's text: no m̂_t, and M_t stays M_{t-1}
    assert step["kept_uncertainty"] is None
    assert step["momentum_after"] == pytest.approx(0.11) == step["momentum_before"]
    # the discarded draft still counts; the human's words are not generated tokens
    assert step["tokens"] == {**empty_ledger(), "draft_discarded": 2}
    next_prompt = model.calls[-1].messages[-1].text
    assert next_prompt.endswith("Step2: 17 + 25 = 42.\nStep3:")
    assert state["steps"][3]["momentum_before"] == pytest.approx(0.11)
    assert state["answer"] == "42" and model.remaining == 0


def test_an_invalid_decision_pauses_again_with_the_reason_and_a_valid_one_then_resumes(saver):
    model, graph, _, first = pause(saver, [*BEFORE_SCALING, [say("the answer is 41", -0.1)]])
    state = graph.invoke(Command(resume={"action": "retry"}), THREAD)
    (again,) = state["__interrupt__"]
    assert again.value == {**first, "error": f"invalid review action 'retry': {USAGE}"}
    state = graph.invoke(Command(resume={"action": "edit"}), THREAD)
    assert state["__interrupt__"][0].value["error"].startswith('action "edit" needs the new step')
    state = graph.invoke(Command(resume="accept"), THREAD)
    assert "__interrupt__" not in state
    assert state["steps"][2]["selection"] == "human_accept" and state["answer"] == "41"
    assert model.remaining == 0


def test_a_new_graph_on_the_same_sqlite_file_resumes_the_paused_run(tmp_path):
    path = tmp_path / "runs.sqlite"
    with SqliteSaver.from_conn_string(str(path)) as first_saver:
        model = ScriptedChatModel(script=BEFORE_SCALING)
        graph = create_mur_graph(model, config=CONFIG, checkpointer=first_saver, interrupt_on_scale=True)
        assert "__interrupt__" in graph.invoke({"question": QUESTION}, THREAD)
    # as in a new process: a new connection, a new model object, a new graph object
    with SqliteSaver.from_conn_string(str(path)) as saver:
        model = ScriptedChatModel(script=SCALING)
        graph = create_mur_graph(model, config=CONFIG, checkpointer=saver, interrupt_on_scale=True)
        assert graph.get_state(THREAD).next == ("review_scale",)
        state = graph.invoke(Command(resume={"action": "scale"}), THREAD)
    assert model.remaining == 0 and [c.kwargs["n"] for c in model.calls] == [2, 1, 1]
    assert [s["selection"] for s in state["steps"]] == [None, None, "critic"]
    assert state["answer"] == "42"


class FailingOnce(ScriptedChatModel):
    """A scripted model whose call number `fail_at` (0-based) raises once, like a dropped server."""

    fail_at: int
    failed: bool = False

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        if len(self.calls) == self.fail_at and not self.failed:
            self.failed = True
            msg = "connection reset by the model server"
            raise ConnectionError(msg)
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_a_run_that_failed_mid_scaling_resumes_from_the_last_checkpoint(saver):
    model = FailingOnce(script=mur_script(), fail_at=4)  # the first verdict, inside guided_search
    graph = create_mur_graph(model, config=CONFIG, checkpointer=saver())
    with pytest.raises(ConnectionError, match="connection reset"):
        graph.invoke({"question": QUESTION}, THREAD)
    assert graph.get_state(THREAD).next == ("guided_search",)
    state = graph.invoke(None, THREAD)  # resume: no step and no candidate is sampled twice
    assert model.remaining == 0 and len(model.calls) == len(mur_script())
    assert state["answer"] == "42"
    assert state["ledger"] == {
        **empty_ledger(),
        "policy_step": 5,
        "draft_discarded": 2,
        "candidates": 5,
        "critic": 4,
    }


@pytest.mark.parametrize(
    ("value", "decision"),
    [
        ("scale", {"action": "scale", "text": None}),
        ({"action": "accept"}, {"action": "accept", "text": None}),
        ({"action": "edit", "text": "  Step 3:  x = 2 "}, {"action": "edit", "text": "x = 2"}),
        ({"action": "edit", "text": "x = 2"}, {"action": "edit", "text": "x = 2"}),
    ],
)
def test_review_decisions_accepted(value, decision):
    assert parse_review(value, step_format("prompted")) == decision


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, "invalid review decision None"),
        ({"action": "skip"}, "invalid review action 'skip'"),
        ({"action": "edit", "text": "   "}, 'action "edit" needs the new step'),
        ({"action": "edit", "text": "Step2:"}, 'action "edit" needs the new step'),
        ({"action": "accept", "text": "x"}, '"text" is only read with action "edit"'),
        ({"action": "scale", "why": "x"}, "unknown keys ['why']"),
    ],
)
def test_review_decisions_refused_with_the_accepted_forms(value, error):
    with pytest.raises(ValueError, match="resume with Command") as refused:
        parse_review(value, step_format("prompted"))
    assert str(refused.value).startswith(error)


def test_the_review_point_sits_between_the_gate_and_the_method():
    graph = create_mur_graph(
        ScriptedChatModel(script=[]), checkpointer=InMemorySaver(), interrupt_on_scale=True
    )
    edges = {(e.source, e.target, e.data) for e in graph.get_graph().edges}
    assert {
        ("assess_uncertainty", "review_scale", "scale"),
        ("review_scale", "guided_search", "scale"),
        ("review_scale", "commit_step", "commit"),
    } <= edges
    assert ("assess_uncertainty", "guided_search", "scale") not in edges


def test_review_routes_to_the_graphs_own_method_and_per_step_reviews_step_zero():
    policy = ScriptedChatModel(
        script=[[say("17 + 25 = 32.", -3.0)], [say("17 + 25 = 42, so the answer is 42", -0.4, -0.2)]]
    )
    critic = ScriptedChatModel(script=[[say("The sum is wrong.", -0.2, -0.2)], [verdict(0.1)]])
    graph = create_mur_graph(
        policy,
        method="critic",
        critic=critic,
        config=paper_config("critic", mode="per_step"),
        checkpointer=InMemorySaver(),
        interrupt_on_scale=True,
    )
    (request,) = graph.invoke({"question": QUESTION}, THREAD)["__interrupt__"]
    assert (request.value["step"], request.value["method"]) == (0, "critic_refine")
    state = graph.invoke(Command(resume="scale"), THREAD)
    (step,) = state["steps"]
    assert (step["method"], step["selection"], step["critique"]["analysis"]) == (
        "critic_refine",
        "revised",
        "The sum is wrong.",
    )
    assert state["answer"] == "42" and policy.remaining == critic.remaining == 0


def test_async_runs_pause_and_resume_on_an_async_sqlite_saver(tmp_path):
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def review() -> dict:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "runs.sqlite")) as saver:
            model = ScriptedChatModel(script=[*BEFORE_SCALING, [say("the answer is 41", -0.1)]])
            graph = create_mur_graph(model, config=CONFIG, checkpointer=saver, interrupt_on_scale=True)
            paused = await graph.ainvoke({"question": QUESTION}, THREAD)
            assert paused["__interrupt__"][0].value["step"] == 2
            state = await graph.ainvoke(Command(resume={"action": "accept"}), THREAD)
            assert model.remaining == 0
            return state

    state = asyncio.run(review())
    assert [s["selection"] for s in state["steps"]] == [None, None, "human_accept", None]
    assert state["answer"] == "41"


def test_an_edited_step_loses_its_header_only_in_a_headed_format():
    from mur_graph.nodes.review_scale import parse_review

    edit = {"action": "edit", "text": " Step 3: x = 2 "}
    assert parse_review(edit, step_format("prompted"))["text"] == "x = 2"
    assert parse_review(edit, step_format("blank_line"))["text"] == "Step 3: x = 2"
    assert parse_review(edit, step_format("natural"))["text"] == "Step 3: x = 2"
    assert parse_review(edit)["text"] == "Step 3: x = 2"  # the default format, natural, has no header
    assert step_format("prompted").strip_header("Step1:Step2: y") == "Step2: y"  # only the leading one
