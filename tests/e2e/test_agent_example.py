"""examples/agent_with_mur_tool.py with a scripted agent model and the real embedded MUR policy."""

import re

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from mur_graph.ledger import add_ledgers, ledger_totals
from tests.agent_fakes import ScriptedAgentModel
from tests.fakes import sum_ledgers
from tests.scripts import load_script

pytestmark = pytest.mark.real_model

QUESTION = "What is 2 + 3?"


def load_example():
    return load_script("examples/agent_with_mur_tool.py")


def test_agent_example_calls_mur_on_the_embedded_model(embedded, capsys):
    example = load_example()
    call = {"name": "mur_reasoner", "args": {"question": QUESTION}, "id": "call-1"}
    agent_model = ScriptedAgentModel(
        replies=[AIMessage("", tool_calls=[call]), AIMessage("I asked MUR; see its answer above.")]
    )
    state = example.main(QUESTION, agent_model=agent_model, policy=embedded)

    human, asked, reply, final = state["messages"]
    assert isinstance(human, HumanMessage) and asked.tool_calls[0]["args"] == {"question": QUESTION}
    assert isinstance(reply, ToolMessage) and reply.name == "mur_reasoner"
    assert final.content == "I asked MUR; see its answer above."
    assert agent_model.bound_tools[0] == "mur_reasoner"
    assert agent_model.seen[1][-1].content == reply.content  # the agent model read the summary

    summary, steps = reply.artifact["summary"], reply.artifact["steps"]
    config = example.DEMO_CONFIG
    assert (config.max_steps, config.max_step_tokens) == (2, 16)
    assert 1 <= summary["n_steps"] == len(steps) <= 2
    assert summary["n_scaled"] == sum(step["scaled"] for step in steps)
    assert all(step["draft"] is not None and 0 < sum(step["tokens"].values()) for step in steps)
    fallback = reply.artifact["fallback"]
    assert summary["tokens"] == add_ledgers(
        sum_ledgers(step["tokens"] for step in steps), {"fallback": fallback["n_tokens"] if fallback else 0}
    )
    assert summary["total_tokens"] == ledger_totals(summary["tokens"])["total"] > 0
    assert summary["stop_reason"] in {"answer", "max_steps", "token_budget"}

    first, second = reply.content.splitlines()
    assert first == f"Answer: {summary['answer'] if summary['answer'] is not None else 'none found'}"
    numbers = re.match(r"Reasoning: (\d+) steps, (\d+) scaled.*; (\d+) tokens \(", second)
    assert numbers is not None
    assert [int(n) for n in numbers.groups()] == [
        summary["n_steps"],
        summary["n_scaled"],
        summary["total_tokens"],
    ]

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "agent model: ScriptedAgentModel"
    assert next(line for line in printed if line.startswith("  [mur] Step")).startswith("  [mur] Step0 m_t=")
    assert printed[-1] == "agent: I asked MUR; see its answer above."
