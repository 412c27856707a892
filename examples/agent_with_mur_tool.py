"""A ReAct agent (langchain.agents.create_agent) that calls MUR as a tool, offline.

Run: python examples/agent_with_mur_tool.py "What is 17 + 25?"

The MUR tool always runs the real embedded SmolLM2-135M-Instruct. The agent's own model must make
native tool calls, which the embedded model cannot do, so run as a script the agent's model is
`RelayAgent`: a scripted stand-in, not a language model. It calls the tool once with the user's
question and relays the tool's reply; the output says so. For a real agent, pass any tool-calling
chat model: `main(question, agent_model=ChatOpenAI(model=...))`. The MUR limits are tiny so that
the example runs in seconds on a CPU; raise them for real use.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, cast

from langchain.agents import create_agent
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from mur_graph import MURConfig, create_mur_tool, load_embedded_model

DEMO_CONFIG = MURConfig(candidates=2, max_steps=2, max_step_tokens=16, fallback_tokens=16, seed=0)
"""Tiny limits: two steps of at most 16 tokens, then a 16-token fallback if no answer came."""


class RelayAgent(BaseChatModel):
    """A scripted agent model (no language model): one call of `tool_name`, then relay its reply."""

    tool_name: str = "mur_reasoner"

    @property
    def _llm_type(self) -> str:
        return "relay-agent"

    def bind_tools(self, tools: Any, **kwargs: Any) -> RelayAgent:
        """Keep the model as it is; it only ever calls `tool_name`."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            reply = AIMessage(f"(relayed from {self.tool_name}) {last.text.splitlines()[0]}")
        else:
            call = {"name": self.tool_name, "args": {"question": last.text}, "id": "relay-1"}
            reply = AIMessage("", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def main(
    question: str,
    *,
    agent_model: BaseChatModel | None = None,
    policy: BaseChatModel | None = None,
    config: MURConfig = DEMO_CONFIG,
) -> dict[str, Any]:
    """Run the agent on `question`, print MUR's steps as they come and the conversation; return the state."""
    if agent_model is None:
        agent_model = RelayAgent()
        print("agent model: RelayAgent (scripted stand-in, not a language model: it calls the tool once)")
    else:
        print(f"agent model: {type(agent_model).__name__}")
    tool = create_mur_tool(policy or load_embedded_model(), config=config)
    agent = create_agent(agent_model, [tool], system_prompt="Use mur_reasoner for any math problem.")

    state: dict[str, Any] = {}
    # With a list of stream modes and subgraphs=True, LangGraph yields (namespace, mode, data)
    # tuples; its `stream` is typed as yielding `dict[str, Any] | Any`.
    stream = cast(
        "Iterator[tuple[tuple[str, ...], str, Any]]",
        agent.stream(
            {"messages": [HumanMessage(question)]}, stream_mode=["custom", "values"], subgraphs=True
        ),
    )
    for namespace, mode, data in stream:
        if mode == "values" and not namespace:
            state = data
        elif mode == "custom" and data["event"] == "step":  # MUR's decisions, live, from the tool
            step = data["record"]
            decision = f"scaled ({step['selection']})" if step["scaled"] else "kept"
            print(
                f"  [mur] Step{step['index']} m_t={step['uncertainty']:.3f} "
                f"threshold={step['threshold']:.3f} {decision}: {step['text']!r}"
            )
    for message in state["messages"]:
        if isinstance(message, HumanMessage):
            print(f"user: {message.text}")
        elif isinstance(message, ToolMessage):
            print(f"{message.name}: " + message.text.replace("\n", "\n  "))
        elif isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"agent -> {call['name']}({call['args']})")
        elif isinstance(message, AIMessage):
            print(f"agent: {message.text}")
    return state


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What is 17 + 25?")
