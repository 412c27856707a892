"""The compiled MUR graph inside a user's own StateGraph: as a node, and called from a node."""

import operator
from typing import Annotated

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from typing_extensions import TypedDict

from mur_graph import MURConfig, build_mur_graph, create_mur_graph
from mur_graph.agents import summarize_run, summary_text
from tests.fakes import ScriptedChatModel, say
from tests.unit.test_graph_scripted import mur_script

QUESTION = "What is 17 + 25?"
EVENTS = [
    *["generating", "draft", "gate", "step"] * 2,
    *["generating", "draft", "gate", "generating", "generating", "candidates", "step", "final"],
]


class Homework(TypedDict, total=False):
    """A user's state that shares `question` and `answer` with MUR's."""

    question: str
    answer: str | None
    notes: Annotated[list[str], operator.add]


def test_the_compiled_graph_is_a_node_that_shares_question_and_answer():
    policy = ScriptedChatModel(script=mur_script())
    builder = StateGraph(Homework)
    builder.add_node("mur", create_mur_graph(policy, config=MURConfig(candidates=2)))
    builder.add_node("check", lambda state: {"notes": [f"checked {state['answer']}"]})
    builder.add_edge(START, "mur")
    builder.add_edge("mur", "check")
    builder.add_edge("check", END)
    graph = builder.compile()

    state = graph.invoke({"question": QUESTION, "notes": ["from the worksheet"]})
    # only the keys the parent declares come back; MUR's trace stays inside the subgraph
    assert state == {"question": QUESTION, "answer": "42", "notes": ["from the worksheet", "checked 42"]}
    assert policy.remaining == 0


class Ticket(TypedDict, total=False):
    """A user's state with its own names: the node maps them to MUR's input and output."""

    task: str
    reply: str
    notes: Annotated[list[str], operator.add]


def test_a_node_function_calls_the_graph_and_its_events_reach_the_parent_stream():
    policy = ScriptedChatModel(script=mur_script())
    mur = create_mur_graph(policy, config=MURConfig(candidates=2))

    def solve(state: Ticket) -> dict:
        result = mur.invoke({"question": state["task"]})
        return {"reply": f"It is {result['answer']}.", "notes": [summary_text(summarize_run(result))]}

    builder = StateGraph(Ticket)
    builder.add_node("solve", solve)
    builder.add_edge(START, "solve")
    builder.add_edge("solve", END)
    graph = builder.compile()

    events, state = [], {}
    for namespace, mode, data in graph.stream(
        {"task": QUESTION}, stream_mode=["custom", "values"], subgraphs=True
    ):
        if mode == "custom":
            events.append((namespace[0].split(":")[0], data["event"]))
        elif not namespace:
            state = data
    assert [kind for _, kind in events] == EVENTS
    assert {node for node, _ in events} == {"solve"}
    assert state["reply"] == "It is 42." and state["notes"][0].startswith("Answer: 42\nReasoning: 3 steps")


def test_human_review_inside_a_parent_graph_uses_the_parent_checkpointer():
    policy = ScriptedChatModel(script=mur_script())
    mur = build_mur_graph(policy, config=MURConfig(candidates=2), interrupt_on_scale=True).compile()
    builder = StateGraph(Homework)
    builder.add_node("mur", mur)
    builder.add_edge(START, "mur")
    builder.add_edge("mur", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "homework"}}

    paused = graph.invoke({"question": QUESTION}, thread)
    (request,) = paused["__interrupt__"]
    assert (request.value["step"], request.value["draft"]) == (2, "So it is 41.")
    state = graph.invoke(Command(resume={"action": "scale"}), thread)
    assert state == {"question": QUESTION, "answer": "42", "notes": []}
    assert policy.remaining == 0


def test_a_subgraph_run_does_not_carry_steps_over_between_invocations():
    script = [[say("the answer is 1", -0.1)], [say("the answer is 2", -0.1)]]
    builder = StateGraph(Homework)
    builder.add_node("mur", create_mur_graph(ScriptedChatModel(script=script)))
    builder.add_edge(START, "mur")
    builder.add_edge("mur", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "one thread, two questions"}}
    assert graph.invoke({"question": "first"}, thread)["answer"] == "1"
    assert graph.invoke({"question": "second"}, thread)["answer"] == "2"
