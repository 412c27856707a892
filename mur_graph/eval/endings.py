"""How each cell's runs ended, and how often each kind of ending was right: where a format loses.

A step-format run can lose to the model run plainly in a few visible ways: a step cut at
`max_step_tokens` (the next step then starts mid-thought behind a new header), a run that used all
its steps and needed the fallback, or a run that stated no answer at all. `endings` counts them
per cell, on the records given, with the accuracy of the runs in each group, so a report says
which of them the lost questions fall into (`mur-graph report --endings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict


class EndingRow(TypedDict):
    """How one cell's runs ended: counts, each kind of ending as (runs, percent of them right)."""

    cell: str
    questions: int
    accuracy: float | None
    steps: float | None
    """Mean steps per run."""
    cut: tuple[int, float | None]
    fallback: tuple[int, float | None]
    no_answer: int
    clean: tuple[int, float | None]


EndingKey = Literal["cell", "questions", "accuracy", "steps", "cut", "fallback", "no_answer", "clean"]

ENDING_COLUMNS: tuple[tuple[EndingKey, str], ...] = (
    ("cell", "cell"),
    ("questions", "n"),
    ("accuracy", "accuracy %"),
    ("steps", "steps/q"),
    ("cut", "runs with a cut step (right %)"),
    ("fallback", "needed the fallback (right %)"),
    ("no_answer", "no answer"),
    ("clean", "other runs (right %)"),
)


def endings(cells: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[EndingRow]:
    """One row per cell (label → its answered records): how its runs ended and how often each was right."""
    rows: list[EndingRow] = []
    for label, records in cells.items():
        ok = [r for r in records if r.get("status") == "ok"]
        ending = {id(r): _ending(r) for r in ok}
        cut, fallback, clean = (
            [r for r in ok if ending[id(r)] == kind] for kind in ("cut", "fallback", "clean")
        )
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


def endings_table(rows: Sequence[EndingRow]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(t for _, t in ENDING_COLUMNS) + " |", "|" + "---|" * len(ENDING_COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[key]) for key, _ in ENDING_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _ending(record: Mapping[str, Any]) -> str:
    """How a run ended: `cut`, `fallback` or `clean`.

    `cut`: an unscaled step (or plain mode's one call) stopped on its token limit; else `fallback`:
    the run needed the fallback completion; else `clean`.
    """
    steps = record["result"]["steps"]
    if any(step.get("draft_finish_reason") == "length" and not step.get("scaled") for step in steps):
        return "cut"
    return "fallback" if record["result"].get("fallback") else "clean"


def _right(records: Sequence[Mapping[str, Any]]) -> float | None:
    return 100.0 * sum(bool(r["correct"]) for r in records) / len(records) if records else None


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        count, right = value
        return f"{count} ({right:.0f} %)" if right is not None else f"{count}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return "—" if value is None else str(value)
