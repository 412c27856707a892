"""The signature every MUR node has: state in, runtime (with the run's `MURConfig`) injected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from langgraph.runtime import Runtime

from mur_graph.config import MURConfig

StateT_contra = TypeVar("StateT_contra", contravariant=True)


class Node(Protocol[StateT_contra]):
    """A node function: `node(state, *, runtime) -> partial state update` (a TypedDict of its keys)."""

    def __call__(self, state: StateT_contra, *, runtime: Runtime[MURConfig]) -> Mapping[str, Any]:
        """Run the node."""
        ...
