"""accept: the γ edge's cheap branch; the draft is kept as it is."""

from __future__ import annotations

from mur_graph.state import Kept, KeptUpdate, MURState, carry_tool_calls


def accept(state: MURState) -> KeptUpdate:
    """Keep the draft unchanged; its uncertainty m_t becomes m̂_t for the momentum update."""
    draft, gate = state["draft"], state["gate"]
    if draft is None or gate is None:
        msg = "accept needs a draft and a gate decision; assess_uncertainty must run first"
        raise ValueError(msg)
    kept = Kept(
        text=draft["text"],
        uncertainty=gate["uncertainty"],
        tokens={},
        method=None,
        keeps_draft=True,
        candidates=[],
        selected=None,
        selection=None,
        finish_reason=draft["finish_reason"],
    )
    carry_tool_calls(draft, kept)
    return {"kept": kept}
