"""langchain-tests' standard integration suite for ChatTransformers on the embedded SmolLM2-135M.

Replies are kept short (max_tokens 12). Tool calling, structured output and multimodal inputs are
off by the suite's own properties (ChatTransformers has no `bind_tools`), not by skips of ours.
"""

from functools import cache
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_tests.integration_tests import ChatModelIntegrationTests

from mur_graph import ChatTransformers, load_embedded_model

pytestmark = pytest.mark.real_model


@cache
def embedded_pipeline() -> Any:
    return load_embedded_model().llm


class TestChatTransformersIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatTransformers]:
        return ChatTransformers

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"llm": embedded_pipeline(), "model_name": "smollm2-135m", "max_tokens": 12}

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:
        return {"invoke": ["cache_read_input"], "stream": ["cache_read_input"]}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        """The second of two same-prompt calls reads all of the prompt but its last token from the cache."""
        model = self.chat_model_class(**self.chat_model_params)
        prompt = "Name three colours."
        model.invoke(prompt)
        if stream:
            reply: AIMessage = AIMessageChunk(content="")
            for chunk in model.stream(prompt):
                reply += chunk
        else:
            reply = model.invoke(prompt)
        assert reply.usage_metadata is not None
        assert (
            reply.usage_metadata["input_token_details"]["cache_read"]
            == reply.usage_metadata["input_tokens"] - 1
        )
        return reply
