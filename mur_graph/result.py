"""A finished run as one JSON-friendly document: the trace, the answer, the ledger, the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mur_graph.config import MURConfig
from mur_graph.ledger import add_ledgers, ledger_totals


def result_document(
    state: Mapping[str, Any],
    config: MURConfig,
    *,
    policy_name: str,
    critic_name: str,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Return the record of one solved question (what `mur-graph solve --json` prints)."""
    steps = list(state.get("steps", []))
    ledger = add_ledgers(state.get("ledger"), None)
    scaled = sum(1 for step in steps if step["scaled"])
    return {
        "question": state["question"],
        "answer": state.get("answer"),
        "answer_truncated": state.get("answer_truncated", False),
        "stop_reason": state.get("stop_reason"),
        "solution": state.get("solution", ""),
        "steps": steps,
        "fallback": state.get("fallback"),
        "ledger": ledger,
        "totals": ledger_totals(ledger),
        "n_steps": len(steps),
        "n_scaled": scaled,
        "scale_rate": scaled / len(steps) if steps else 0.0,
        "settings": config.to_dict(),
        "policy": policy_name,
        "critic": critic_name,
        "wall_time_s": wall_time_s,
    }
