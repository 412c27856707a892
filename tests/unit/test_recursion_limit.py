"""Each run's recursion limit follows its max_steps, never LangGraph's default (25 in langgraph 1.0.0)."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from mur_graph import MURConfig, build_mur_graph, create_mur_graph, create_mur_tool
from mur_graph.compiled import MURGraph, recursion_limit
from tests.fakes import ScriptedChatModel, say, verdict

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH_1_0_DEFAULT = 25


def cot_script(n_steps):
    """Steps that never answer, then the fallback completion."""
    return [[say(f"Step {i} of the thinking.", -0.1)] for i in range(n_steps)] + [[say("unsure", -0.1)]]


def cot(n_steps):
    return MURConfig(mode="cot", max_steps=n_steps)


def test_a_20_step_run_completes_when_the_caller_passes_langgraph_1_0s_default_limit():
    model = ScriptedChatModel(script=cot_script(20))
    graph = create_mur_graph(model, config=cot(20))
    state = graph.invoke({"question": "q"}, {"recursion_limit": LANGGRAPH_1_0_DEFAULT})
    assert (len(state["steps"]), state["stop_reason"], model.remaining) == (20, "max_steps", 0)


def test_the_same_run_compiled_without_mur_graph_stops_at_that_limit():
    # the control: the limit of 25 does bite a plain compiled graph
    graph = build_mur_graph(ScriptedChatModel(script=cot_script(20)), config=cot(20)).compile()
    with pytest.raises(GraphRecursionError):
        graph.invoke({"question": "q"}, {"recursion_limit": LANGGRAPH_1_0_DEFAULT})


RUN_UNDER_A_DEFAULT_OF_25 = """
from langgraph.errors import GraphRecursionError
from mur_graph import MURConfig, build_mur_graph, create_mur_graph
from tests.fakes import ScriptedChatModel
from tests.unit.test_recursion_limit import cot_script

config = MURConfig(mode="cot", max_steps=20)
state = create_mur_graph(ScriptedChatModel(script=cot_script(20)), config=config).invoke({"question": "q"})
print("mur graph:", len(state["steps"]), state["stop_reason"])
plain = build_mur_graph(ScriptedChatModel(script=cot_script(20)), config=config).compile()
try:
    plain.invoke({"question": "q"})
except GraphRecursionError:
    print("plain graph: GraphRecursionError")
"""


def test_a_20_step_run_completes_under_a_langgraph_default_of_25():
    # LANGGRAPH_DEFAULT_RECURSION_LIMIT sets the default that `invoke` without a config gets; it is
    # read at import, hence the fresh interpreter. (langgraph 1.0.x defaults to 25 without it.)
    env = {**os.environ, "LANGGRAPH_DEFAULT_RECURSION_LIMIT": str(LANGGRAPH_1_0_DEFAULT)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_UNDER_A_DEFAULT_OF_25],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["mur graph: 20 max_steps", "plain graph: GraphRecursionError"]


@pytest.mark.parametrize("n_steps", [1, 3, 6])
def test_a_run_of_n_steps_needs_exactly_4n_plus_2_supersteps(n_steps):
    builder = build_mur_graph(ScriptedChatModel(script=[]), config=cot(n_steps))
    for limit, completes in ((4 * n_steps + 2, True), (4 * n_steps + 1, False)):
        model = ScriptedChatModel(script=cot_script(n_steps))
        graph = build_mur_graph(model, config=cot(n_steps)).compile()
        if completes:
            assert len(graph.invoke({"question": "q"}, {"recursion_limit": limit})["steps"]) == n_steps
        else:
            with pytest.raises(GraphRecursionError):
                graph.invoke({"question": "q"}, {"recursion_limit": limit})
    assert "review_scale" not in builder.nodes
    assert recursion_limit(n_steps) == 4 * n_steps + 2 + 4  # one spare MUR step
    assert recursion_limit(n_steps, review=True) == 5 * n_steps + 2 + 5


def test_the_limit_follows_the_runs_max_steps_not_only_the_graphs_default():
    model = ScriptedChatModel(script=cot_script(30))
    graph = create_mur_graph(model, config=cot(2))
    state = graph.invoke({"question": "q"}, {"recursion_limit": LANGGRAPH_1_0_DEFAULT}, context=cot(30))
    assert (len(state["steps"]), model.remaining) == (30, 0)
    assert graph.run_recursion_limit() == recursion_limit(2)
    assert graph.run_recursion_limit(context=cot(30)) == recursion_limit(30)
    # LangGraph's server sends the context as a dict
    assert graph.run_recursion_limit(context={"max_steps": 30, "mode": "cot"}) == recursion_limit(30)


def test_a_higher_limit_from_the_caller_or_with_config_is_kept():
    graph = create_mur_graph(ScriptedChatModel(script=[]), config=cot(20))
    assert graph.run_recursion_limit({"recursion_limit": 5000}) == 5000
    configured = graph.with_config(recursion_limit=4000)
    assert isinstance(configured, MURGraph)
    assert configured.run_recursion_limit() == 4000
    assert configured.run_recursion_limit({"recursion_limit": 10}) == 4000


def test_async_runs_get_the_limit_too():
    model = ScriptedChatModel(script=cot_script(20))
    graph = create_mur_graph(model, config=cot(20))
    state = asyncio.run(graph.ainvoke({"question": "q"}, {"recursion_limit": LANGGRAPH_1_0_DEFAULT}))
    assert len(state["steps"]) == 20


def test_the_agents_tool_run_inside_a_run_with_a_limit_of_25_completes():
    tool = create_mur_tool(ScriptedChatModel(script=cot_script(20)), config=cot(20))
    text = tool.invoke({"question": "q"}, {"recursion_limit": LANGGRAPH_1_0_DEFAULT})
    assert "Reasoning: 20 steps, 0 scaled" in text


def test_the_graph_stays_a_compiled_state_graph_with_review_pauses_and_a_checkpointer():
    steps = 6
    script = []
    for i in range(steps):  # a draft, two candidates, two verdicts
        script += [[say(f"draft {i}", -0.1)], [say("a", -0.1), say("b", -0.1)]]
        script += [[verdict(0.2)], [verdict(0.9)]]
    model = ScriptedChatModel(script=[*script, [say("unsure", -0.1)]])
    config = MURConfig(mode="per_step", candidates=2, max_steps=steps)
    graph = create_mur_graph(model, config=config, checkpointer=InMemorySaver(), interrupt_on_scale=True)
    assert isinstance(graph, CompiledStateGraph)
    assert "review_scale" in graph.get_graph().nodes
    assert graph.run_recursion_limit() == recursion_limit(steps, review=True)
    thread = {"configurable": {"thread_id": "t"}, "recursion_limit": 1}
    state = graph.invoke({"question": "q"}, thread)
    pauses = 0
    while state.get("__interrupt__"):
        pauses += 1
        state = graph.invoke(Command(resume={"action": "scale"}), thread)
    assert (pauses, len(state["steps"]), model.remaining) == (steps, steps, 0)
    assert all(step["scaled"] for step in state["steps"])
