"""How each cell's runs ended, and how often each kind of ending was right: where a format loses.

A step-format run can lose to the model run plainly in a few visible ways: a step cut at
`max_step_tokens` (the next step then starts mid-thought behind a new header), a run that used all
its steps and needed the fallback, or a run that stated no answer at all. `endings` counts them
per cell, on the records given, with the accuracy of the runs in each group, so a report says
which of them the lost questions fall into (`mur-graph report --endings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Row = dict[str, Any]

ENDING_COLUMNS = (
    ("cell", "cell"),
    ("questions", "n"),
    ("accuracy", "accuracy %"),
    ("steps", "steps/q"),
    ("cut", "runs with a cut step (right %)"),
    ("fallback", "needed the fallback (right %)"),
    ("no_answer", "no answer"),
    ("clean", "other runs (right %)"),
)


def endings(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Row]:
    """One row per cell (label → its answered records): how its runs ended and how often each was right."""
    rows = []
    for label, records in cells.items():
        ok = [r for r in records if r.get("status") == "ok"]
        cut = [r for r in ok if _cut(r)]
        fallback = [r for r in ok if r["result"].get("fallback") and not _cut(r)]
        clean = [r for r in ok if not _cut(r) and not r["result"].get("fallback")]
        rows.append(
            {
                "cell": label,
                "questions": len(ok),
                "accuracy": _right(ok),
                "steps": sum(r["result"]["n_steps"] for r in ok) / len(ok) if ok else None,
                "cut": (len(cut), _right(cut)),
                "fallback": (len(fallback), _right(fallback)),
                "no_answer": sum(r.get("answer") is None for r in ok),
                "clean": (len(clean), _right(clean)),
            }
        )
    return rows


def endings_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(t for _, t in ENDING_COLUMNS) + " |", "|" + "---|" * len(ENDING_COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[key]) for key, _ in ENDING_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _cut(record: Mapping[str, Any]) -> bool:
    """Whether an unscaled step of the run stopped on its token limit (or plain mode's one call did)."""
    return any(
        step.get("draft_finish_reason") == "length" and not step.get("scaled")
        for step in record["result"]["steps"]
    )


def _right(records: Sequence[Mapping[str, Any]]) -> float | None:
    return 100.0 * sum(bool(r["correct"]) for r in records) / len(records) if records else None


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        count, right = value
        return f"{count} ({right:.0f} %)" if right is not None else f"{count}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return "—" if value is None else str(value)
