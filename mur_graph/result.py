"""A finished run as one JSON-friendly document: the trace, the answer, the ledger, the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import TypedDict

from mur_graph.config import MURConfig
from mur_graph.ledger import Ledger, add_ledgers, ledger_totals
from mur_graph.state import StepRecord, StopReason


class ReasoningSummary(TypedDict):
    """What one MUR run did, in numbers."""

    answer: str | None
    stop_reason: StopReason | None
    n_steps: int
    n_scaled: int
    scaled_steps: list[int]
    """Indices of the scaled steps."""
    tokens: Ledger
    """Generated tokens by kind (the run's ledger)."""
    total_tokens: int


def summarize_run(state: Mapping[str, Any]) -> ReasoningSummary:
    """Return the numbers of a finished MUR run (its output state)."""
    steps: list[StepRecord] = list(state.get("steps", []))
    ledger = add_ledgers(state.get("ledger"), None)
    scaled = [step["index"] for step in steps if step["scaled"]]
    return ReasoningSummary(
        answer=state.get("answer"),
        stop_reason=state.get("stop_reason"),
        n_steps=len(steps),
        n_scaled=len(scaled),
        scaled_steps=scaled,
        tokens=ledger,
        total_tokens=ledger_totals(ledger)["total"],
    )


def result_document(
    state: Mapping[str, Any],
    settings: Mapping[str, Any] | MURConfig,
    *,
    policy_name: str,
    critic_name: str,
    wall_time_s: float | None = None,
) -> dict[str, Any]:
    """Return the record of one solved question (what `mur-graph solve --json` prints).

    `settings` is what the record keeps as its settings: `graph.settings_record(config)` (the run's
    settings, the method and its own settings), or a bare `MURConfig` (its settings alone).
    """
    summary = summarize_run(state)
    ledger, n_steps = summary["tokens"], summary["n_steps"]
    return {
        "question": state["question"],
        "answer": state.get("answer"),
        "answer_truncated": state.get("answer_truncated", False),
        "stop_reason": state.get("stop_reason"),
        "solution": state.get("solution", ""),
        "steps": list(state.get("steps", [])),
        "fallback": state.get("fallback"),
        "ledger": ledger,
        "totals": ledger_totals(ledger),
        "n_steps": n_steps,
        "n_scaled": summary["n_scaled"],
        "scale_rate": summary["n_scaled"] / n_steps if n_steps else 0.0,
        "settings": settings.to_dict() if isinstance(settings, MURConfig) else dict(settings),
        "policy": policy_name,
        "critic": critic_name,
        "wall_time_s": wall_time_s,
    }
