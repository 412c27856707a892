"""Graph factories for LangGraph Studio and `langgraph dev`, named in the repository's `langgraph.json`.

The server calls a factory once per run; the model is loaded on the first call and kept, so
importing this module loads nothing. The policy is the embedded SmolLM2-135M-Instruct, or the
local model named by the `MUR_GRAPH_MODEL` environment variable (a hub id or a folder). The
graphs are compiled without a checkpointer: the server persists threads itself, which is what
`mur_review`'s pauses need.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from mur_graph.cli_options import EMBEDDED_DEMO_LIMITS
from mur_graph.compiled import compile_mur_graph
from mur_graph.config import MURConfig
from mur_graph.graph import build_mur_graph

MODEL_VARIABLE = "MUR_GRAPH_MODEL"


@functools.cache
def studio_policy() -> BaseChatModel:
    """The policy the Studio graphs run: `$MUR_GRAPH_MODEL`, else the embedded model."""
    from mur_graph.models import load_chat_model

    return load_chat_model(os.environ.get(MODEL_VARIABLE) or None)


def studio_config() -> MURConfig:
    """The default settings: the paper's, with short limits for the embedded model on CPU."""
    limits: dict[str, Any] = {} if os.environ.get(MODEL_VARIABLE) else dict(EMBEDDED_DEMO_LIMITS)
    return MURConfig(**limits)


@functools.cache
def _compiled(*, interrupt_on_scale: bool) -> CompiledStateGraph[Any, Any, Any, Any]:
    config = studio_config()
    builder = build_mur_graph(studio_policy(), config=config, interrupt_on_scale=interrupt_on_scale)
    return compile_mur_graph(builder, config, name="mur_review" if interrupt_on_scale else "mur")


def make_graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The MUR graph (guided search); a run's settings can be changed in Studio's context."""
    return _compiled(interrupt_on_scale=False)


def make_review_graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The MUR graph with a human review before each scaled step (`interrupt_on_scale=True`)."""
    return _compiled(interrupt_on_scale=True)
