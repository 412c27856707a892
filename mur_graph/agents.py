"""MUR inside agents: the compiled graph as a LangChain tool that a ReAct agent can call.

`create_mur_tool(policy_or_graph)` returns a `MURTool`, a `BaseTool` with one argument,
`question`. It runs the MUR graph (sync or async) and answers with a short text an agent model
reads well — the answer, then one line on the reasoning: steps, how many were scaled, tokens by
kind, why it stopped — and, as the `ToolMessage.artifact` (never sent to the agent model), the
full trace: `MURToolArtifact`.

```python
from langchain.agents import create_agent
from mur_graph import MURConfig, create_mur_tool, load_embedded_model

tool = create_mur_tool(load_embedded_model(), config=MURConfig(max_steps=8))
agent = create_agent(tool_calling_model, [tool])
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool
from langchain_core.tools.base import ArgsSchema
from langgraph.pregel import Pregel
from pydantic import BaseModel, Field, field_validator
from typing_extensions import TypedDict

from mur_graph.config import MURConfig
from mur_graph.graph import create_mur_graph
from mur_graph.result import ReasoningSummary, summarize_run
from mur_graph.state import Fallback, StepRecord

DEFAULT_NAME = "mur_reasoner"
DEFAULT_DESCRIPTION = (
    "Solve a math or reasoning problem step by step with a local reasoning model that spends "
    "extra compute only on the steps it is unsure of (MUR). Pass the complete problem as "
    "`question`: the tool does not see the conversation. Returns the final answer and a one-line "
    "summary of the reasoning (steps, scaled steps, tokens)."
)


class MURToolInput(BaseModel):
    """The tool's arguments."""

    question: str = Field(
        description="The complete problem to solve, with every number it needs.", min_length=1
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            msg = "question is blank; pass the full problem text"
            raise ValueError(msg)
        return value.strip()


class MURToolArtifact(TypedDict):
    """The tool's artifact: the summary plus the full trace (JSON-friendly)."""

    summary: ReasoningSummary
    steps: list[StepRecord]
    solution: str
    fallback: Fallback | None


def summary_text(summary: ReasoningSummary) -> str:
    """Return the two lines an agent model reads: the answer, then the reasoning in numbers.

    E.g. `Answer: 42` / `Reasoning: 3 steps, 1 scaled (step 2); 16 tokens (policy_step 5,
    draft_discarded 2, candidates 5, critic 4); stopped: answer.`
    """
    answer = summary["answer"] if summary["answer"] is not None else "none found"
    scaled = f"{summary['n_scaled']} scaled"
    if summary["scaled_steps"]:
        which = ", ".join(str(i) for i in summary["scaled_steps"])
        scaled += f" (step{'s' if summary['n_scaled'] > 1 else ''} {which})"
    kinds = ", ".join(f"{kind} {n}" for kind, n in summary["tokens"].items() if n)
    tokens = f"{summary['total_tokens']} tokens" + (f" ({kinds})" if kinds else "")
    return (
        f"Answer: {answer}\n"
        f"Reasoning: {summary['n_steps']} steps, {scaled}; {tokens}; stopped: {summary['stop_reason']}."
    )


def tool_result(state: Mapping[str, Any]) -> tuple[str, MURToolArtifact]:
    """Return what the tool gives for a finished MUR run: the summary text and the full trace."""
    summary = summarize_run(state)
    artifact = MURToolArtifact(
        summary=summary,
        steps=list(state.get("steps", [])),
        solution=state.get("solution", ""),
        fallback=state.get("fallback"),
    )
    return summary_text(summary), artifact


class MURTool(BaseTool):
    """A LangChain tool that solves `question` with a compiled MUR graph.

    Called inside a LangGraph agent, the MUR run is the tool call's subgraph: its custom events
    reach the agent's `stream(..., stream_mode="custom", subgraphs=True)` and it is checkpointed
    with the agent's checkpointer.
    """

    name: str = DEFAULT_NAME
    description: str = DEFAULT_DESCRIPTION
    args_schema: ArgsSchema | None = MURToolInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    graph: Pregel[Any, Any, Any, Any]
    """The compiled MUR graph (`create_mur_graph`)."""
    context: MURConfig | None = None
    """Settings every run gets as `context=` (None: the graph's defaults)."""

    def _run(
        self,
        question: str,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, MURToolArtifact]:
        child = patch_config(config, callbacks=run_manager.get_child() if run_manager else None)
        state = self.graph.invoke({"question": question}, child, context=self.context)
        return tool_result(state)

    async def _arun(
        self,
        question: str,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, MURToolArtifact]:
        child = patch_config(config, callbacks=run_manager.get_child() if run_manager else None)
        state = await self.graph.ainvoke({"question": question}, child, context=self.context)
        return tool_result(state)


def create_mur_tool(
    policy_or_graph: BaseChatModel | Pregel[Any, Any, Any, Any],
    *,
    method: str | None = None,
    critic: BaseChatModel | None = None,
    config: MURConfig | None = None,
    name: str = DEFAULT_NAME,
    description: str = DEFAULT_DESCRIPTION,
) -> MURTool:
    """Return MUR as a LangChain tool for agents (`create_agent`, `create_react_agent`, `ToolNode`).

    Args:
        policy_or_graph: A chat model with log-probs (the graph is built with `create_mur_graph`),
            or an already compiled MUR graph.
        method: The scaling method, when a policy is given (`create_mur_graph(method=...)`).
        critic: The critic model, when a policy is given; defaults to the policy.
        config: The settings the tool runs with: the graph's defaults when a policy is given,
            the run-time `context=` of every call when a graph is given.
        name: The tool's name, as the agent model sees it.
        description: What the agent model is told about the tool.

    Returns:
        A `MURTool` whose calls return `(summary text, MURToolArtifact)`.

    Raises:
        TypeError: `policy_or_graph` is neither a chat model nor a compiled graph, or a critic or
            a method is given with a compiled graph.
    """
    if isinstance(policy_or_graph, BaseChatModel):
        graph = create_mur_graph(policy_or_graph, method=method, critic=critic, config=config)
        return MURTool(name=name, description=description, graph=graph)
    if isinstance(policy_or_graph, Pregel):
        for given, value in (("critic", critic), ("method", method)):
            if value is not None:
                msg = f"{given} is part of a built graph; pass it to create_mur_graph(policy, {given}=...)"
                msg += " instead"
                raise TypeError(msg)
        return MURTool(name=name, description=description, graph=policy_or_graph, context=config)
    msg = (
        "create_mur_tool needs a chat model with log-probs or a graph from create_mur_graph, "
        f"got {type(policy_or_graph).__name__}"
    )
    raise TypeError(msg)
