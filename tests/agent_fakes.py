"""A scripted tool-calling agent model: replies with fixed AIMessages, in order, and records what it saw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr


class ScriptedAgentModel(BaseChatModel):
    """An agent model with scripted replies (tool calls, then an answer); fails when they run out.

    `bind_tools` records the tools it was given and returns the model itself, as the agents need.
    """

    replies: list[AIMessage]
    _seen: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _tools: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-agent"

    @property
    def seen(self) -> list[list[BaseMessage]]:
        """The messages of every call, in order."""
        return self._seen

    @property
    def bound_tools(self) -> list[str]:
        return self._tools

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | BaseTool | Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self._tools.extend(getattr(tool, "name", str(tool)) for tool in tools)
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if len(self._seen) >= len(self.replies):
            msg = f"agent script exhausted after {len(self.replies)} replies"
            raise AssertionError(msg)
        self._seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.replies[len(self._seen) - 1])])
