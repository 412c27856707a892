"""The graph's conditional edges: the γ edge and the loop."""

from __future__ import annotations

from typing import Literal

from mur_graph.state import MURState


def momentum_condition(state: MURState) -> Literal["scale", "accept"]:
    """Route a draft to scaling when the gate decided so (see `assess_uncertainty`), else accept it.

    Use it like `tools_condition`: `add_conditional_edges(node, momentum_condition, {...})`.
    """
    gate = state.get("gate")
    return "scale" if gate is not None and gate["scale"] else "accept"


def route_after_draft(state: MURState) -> Literal["assess_uncertainty", "context_full"]:
    """Assess the draft, or `context_full` (to finalize) when step t's prompt no longer fitted."""
    return "context_full" if state.get("stop_reason") == "context_full" else "assess_uncertainty"


def route_after_commit(state: MURState) -> Literal["generate_step", "finalize"]:
    """Loop to the next step until a stop reason (answer, max steps, budget) is set."""
    return "finalize" if state.get("stop_reason") else "generate_step"


def review_condition(state: MURState) -> Literal["scale", "commit"]:
    """After a human review: scale the draft, or commit the step the human accepted or wrote."""
    return "commit" if state.get("kept") is not None else "scale"
