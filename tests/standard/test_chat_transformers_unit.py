"""langchain-tests' standard unit suite for ChatTransformers, on a tiny random Llama built in memory.

Tool calling, structured output and multimodal inputs are off by the suite's own properties
(ChatTransformers has no `bind_tools`), not by skips of ours.
"""

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from mur_graph import ChatTransformers
from tests.tiny_model import tiny_pipeline


class TestChatTransformersUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatTransformers]:
        return ChatTransformers

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"llm": tiny_pipeline(), "model_name": "tiny-llama"}
