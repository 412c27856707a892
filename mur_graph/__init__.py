"""mur-graph: Momentum Uncertainty-guided Reasoning (MUR, arXiv 2507.14958) for LangGraph.

`ChatLlamaCpp` and `ChatTransformers` need their extras and are imported when first named, so
`import mur_graph` loads neither llama.cpp nor torch (`mur_graph.models`).
"""

from typing import TYPE_CHECKING, Any

from mur_graph.agents import MURTool, create_mur_tool
from mur_graph.config import MODES, MURConfig
from mur_graph.errors import MURError
from mur_graph.graph import build_mur_graph, create_mur_graph
from mur_graph.ledger import KINDS as LEDGER_KINDS
from mur_graph.models import (
    CallCache,
    MissingLogprobsError,
    load_chat_model,
    load_embedded_model,
    using_call_cache,
)
from mur_graph.result import result_document
from mur_graph.routing import momentum_condition
from mur_graph.scaling import paper_config, register_scaling_method, scaling_methods
from mur_graph.state import MURState, StepRecord

if TYPE_CHECKING:
    from mur_graph.models import ChatLlamaCpp, ChatTransformers

__all__ = [
    "LEDGER_KINDS",
    "MODES",
    "CallCache",
    "ChatLlamaCpp",
    "ChatTransformers",
    "MURConfig",
    "MURError",
    "MURState",
    "MURTool",
    "MissingLogprobsError",
    "StepRecord",
    "build_mur_graph",
    "create_mur_graph",
    "create_mur_tool",
    "load_chat_model",
    "load_embedded_model",
    "momentum_condition",
    "paper_config",
    "register_scaling_method",
    "result_document",
    "scaling_methods",
    "using_call_cache",
]


def __getattr__(name: str) -> Any:
    """`ChatLlamaCpp` and `ChatTransformers`, imported from `mur_graph.models` when first named."""
    if name in ("ChatLlamaCpp", "ChatTransformers"):
        from mur_graph import models

        return getattr(models, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
