"""langchain-tests' standard conformance suites on ChatLlamaCpp (SmolLM2's GGUF on llama.cpp).

Tool calling, structured output, JSON mode and multimodal inputs are not features of this model
class; the suites' own properties switch those tests off.
"""

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from mur_graph.models import ChatLlamaCpp
from mur_graph.models.embedded import find_embedded_gguf


class _Settings:
    @property
    def chat_model_class(self) -> type[ChatLlamaCpp]:
        return ChatLlamaCpp

    @property
    def chat_model_params(self) -> dict:
        # greedy and short: the 135M model answers in a few tokens on CPU
        return {"model_path": str(find_embedded_gguf()), "temperature": 0}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_json_mode(self) -> bool:
        return False

    @property
    def supports_model_override(self) -> bool:
        return False


class TestChatLlamaCppUnit(_Settings, ChatModelUnitTests):
    pass


@pytest.mark.real_model
class TestChatLlamaCppIntegration(_Settings, ChatModelIntegrationTests):
    pass
