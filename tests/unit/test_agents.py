"""MUR as a LangChain tool inside a prebuilt agent (langchain.agents.create_agent)."""

import asyncio

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from mur_graph import MURConfig, create_mur_graph, create_mur_tool
from mur_graph.agents import MURTool, summarize_run, summary_text
from mur_graph.ledger import empty_ledger
from tests.agent_fakes import ScriptedAgentModel
from tests.fakes import ScriptedChatModel, prompted, say
from tests.unit.test_graph_scripted import mur_script

QUESTION = "What is 17 + 25?"
SUMMARY = (
    "Answer: 42\n"
    "Reasoning: 3 steps, 1 scaled (step 2); 16 tokens (policy_step 5, draft_discarded 2, "
    "candidates 5, critic 4); stopped: answer."
)


def call_tool(question=QUESTION, call_id="call-1", name="mur_reasoner"):
    return AIMessage("", tool_calls=[{"name": name, "args": {"question": question}, "id": call_id}])


def agent_and_models(*replies, tool_name="mur_reasoner"):
    policy = ScriptedChatModel(script=mur_script())
    tool = create_mur_tool(policy, config=prompted(candidates=2), name=tool_name)
    agent_model = ScriptedAgentModel(replies=list(replies))
    return create_agent(agent_model, [tool]), agent_model, policy


def check_tool_turn(messages, policy):
    human, asked, answer_msg, final = messages
    assert isinstance(human, HumanMessage) and asked.tool_calls[0]["args"] == {"question": QUESTION}
    assert isinstance(answer_msg, ToolMessage) and answer_msg.tool_call_id == "call-1"
    assert answer_msg.content == SUMMARY
    summary = answer_msg.artifact["summary"]
    assert summary == {
        "answer": "42",
        "stop_reason": "answer",
        "n_steps": 3,
        "n_scaled": 1,
        "scaled_steps": [2],
        "tokens": {**empty_ledger(), "policy_step": 5, "draft_discarded": 2, "candidates": 5, "critic": 4},
        "total_tokens": 16,
    }
    steps = answer_msg.artifact["steps"]
    assert [s["text"] for s in steps][-1] == "Step2: The answer is 42." and steps[2]["selected"] == 1
    assert answer_msg.artifact["solution"].endswith("Step2: The answer is 42.")
    assert final.content == "MUR says 42."
    assert policy.remaining == 0


def test_a_react_agent_calls_mur_and_reads_the_answer_and_summary():
    agent, agent_model, policy = agent_and_models(call_tool(), AIMessage("MUR says 42."))
    state = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    check_tool_turn(state["messages"], policy)
    assert agent_model.bound_tools[0] == "mur_reasoner"
    # the agent model reads the summary text, never the artifact
    assert agent_model.seen[1][-1].content == SUMMARY


def test_the_agent_runs_the_tool_asynchronously():
    agent, _, policy = agent_and_models(call_tool(), AIMessage("MUR says 42."))
    state = asyncio.run(agent.ainvoke({"messages": [HumanMessage(QUESTION)]}))
    check_tool_turn(state["messages"], policy)


def test_mur_decisions_stream_through_the_agent_as_custom_events():
    agent, _, _ = agent_and_models(call_tool(), AIMessage("MUR says 42."))
    events = [
        (namespace, data["event"])
        for namespace, mode, data in agent.stream(
            {"messages": [HumanMessage(QUESTION)]}, stream_mode=["custom"], subgraphs=True
        )
    ]
    assert all(namespace[0].startswith("tools:") for namespace, _ in events)
    assert [kind for _, kind in events] == [
        *["generating", "draft", "gate", "step"] * 2,
        *["generating", "draft", "gate", "generating", "generating", "candidates", "step", "final"],
    ]
    assert [len(namespace) for namespace, kind in events if kind == "candidates"] == [2]


def test_a_blank_question_goes_back_to_the_agent_as_a_tool_error():
    agent, _, policy = agent_and_models(
        call_tool("   "), call_tool(call_id="call-1"), AIMessage("MUR says 42.")
    )
    state = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    refused = state["messages"][2]
    assert isinstance(refused, ToolMessage) and refused.status == "error"
    assert "question is blank" in refused.content
    check_tool_turn([state["messages"][0], *state["messages"][3:]], policy)


def test_the_tool_can_be_called_directly_sync_and_async():
    graph = create_mur_graph(ScriptedChatModel(script=mur_script() + mur_script()))
    tool = create_mur_tool(graph, config=MURConfig(candidates=2), name="solve", description="Solves it.")
    assert (tool.name, tool.description, tool.context) == ("solve", "Solves it.", MURConfig(candidates=2))
    assert tool.invoke({"question": QUESTION}) == SUMMARY  # plain args: the content only
    message = asyncio.run(tool.ainvoke(call_tool(name="solve").tool_calls[0]))
    assert isinstance(message, ToolMessage) and message.content == SUMMARY
    assert message.artifact["summary"]["answer"] == "42"


def test_a_tool_built_from_a_policy_uses_its_settings():
    policy = ScriptedChatModel(script=[[say("x", -0.1)], [say("y", -9.0)], [say("the answer is 2", -0.1)]])
    tool = create_mur_tool(policy, config=MURConfig(mode="cot", max_steps=2))
    assert isinstance(tool, MURTool) and tool.context is None
    assert tool.invoke({"question": "q"}) == (
        "Answer: 2\nReasoning: 2 steps, 0 scaled; 3 tokens (policy_step 2, fallback 1); stopped: max_steps."
    )
    assert policy.remaining == 0


def test_summary_of_a_run_without_an_answer_and_with_several_scaled_steps():
    state = {
        "steps": [{"index": 0, "scaled": True}, {"index": 1, "scaled": False}, {"index": 2, "scaled": True}],
        "ledger": {"policy_step": 3, "candidates": 9},
        "answer": None,
        "stop_reason": "token_budget",
    }
    assert summary_text(summarize_run(state)) == (
        "Answer: none found\nReasoning: 3 steps, 2 scaled (steps 0, 2); 12 tokens (policy_step 3, "
        "candidates 9); stopped: token_budget."
    )


def test_wrong_arguments_are_refused_with_the_fix():
    with pytest.raises(TypeError, match="needs a chat model with log-probs or a graph from create_mur_graph"):
        create_mur_tool("gpt-4o")  # type: ignore[arg-type]
    graph = create_mur_graph(ScriptedChatModel(script=[]))
    with pytest.raises(TypeError, match=r"create_mur_graph\(policy, critic=...\)"):
        create_mur_tool(graph, critic=ScriptedChatModel(script=[]))
