"""Find one solved problem in a `mur-graph solve --json` file or an evaluation results file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mur_graph.errors import MURError
from mur_graph.eval.results import latest_by_id, read_records

_SHOWN_CHOICES = 10


class TraceError(MURError, ValueError):
    """The file holds no viewable trace, or not the one asked for; the message names the choices."""


@dataclass(frozen=True)
class Trace:
    """One solved problem: the result document, and its evaluation record when it came from one."""

    document: dict[str, Any]
    """What `mur-graph solve --json` prints (`mur_graph.result.result_document`)."""
    record: dict[str, Any] | None = None
    """The evaluation record around it (`id`, `reference`, `correct`, ...), for an eval results file."""
    position: str | None = None
    """Which record of the file it is, e.g. "question 3 of 20"."""


def load_trace(path: Path, *, question: str | None = None, index: int | None = None) -> Trace:
    """Return the trace in `path`: a `solve --json` output, or one question of an eval results file.

    Args:
        path: a JSON document printed by `mur-graph solve --json`, or a JSONL results file.
        question: the id of the question to pick from a results file.
        index: the 0-based position of the question to pick (default: the first that finished).

    Raises:
        TraceError: the file holds no trace, or no question matches; the message lists the ids.
        OSError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path} is not a text file; expected `mur-graph solve --json` output or an eval results file"
        raise TraceError(msg) from exc
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and "steps" in whole:
        return Trace(_checked(whole, path))
    records = [whole] if isinstance(whole, dict) and "id" in whole else read_records(path)
    if not records:
        msg = (
            f"{path} holds no trace: expected the output of `mur-graph solve --json` "
            "or a results file written by `mur-graph eval`"
        )
        raise TraceError(msg)
    latest = list(latest_by_id(records).values())
    record, position = _pick(latest, path, question, index)
    if record.get("status") != "ok" or not isinstance(record.get("result"), dict):
        msg = (
            f"question {record['id']!r} in {path} did not finish ({record.get('error', 'no result')}); "
            f"nothing to view. {_choices(latest)}"
        )
        raise TraceError(msg)
    return Trace(_checked(record["result"], path), record, f"question {position + 1} of {len(latest)}")


def _pick(
    records: list[dict[str, Any]], path: Path, question: str | None, index: int | None
) -> tuple[dict[str, Any], int]:
    if question is not None:
        for position, record in enumerate(records):
            if str(record["id"]) == question:
                return record, position
        msg = f"no question with id {question!r} in {path}. {_choices(records)}"
        raise TraceError(msg)
    if index is not None:
        if not 0 <= index < len(records):
            last = len(records) - 1
            msg = f"--index {index} is out of range: {path} holds {len(records)} questions (0 to {last})"
            raise TraceError(msg)
        return records[index], index
    for position, record in enumerate(records):
        if record.get("status") == "ok":
            return record, position
    msg = f"no question in {path} finished; nothing to view. {_choices(records)}"
    raise TraceError(msg)


def _choices(records: list[dict[str, Any]]) -> str:
    ids = [f"{record['id']} ({record.get('status', '?')})" for record in records[:_SHOWN_CHOICES]]
    more = f", … and {len(records) - _SHOWN_CHOICES} more" if len(records) > _SHOWN_CHOICES else ""
    return f"Pick one with --question ID or --index N; its questions: {', '.join(ids)}{more}"


def _checked(document: dict[str, Any], path: Path) -> dict[str, Any]:
    steps = document.get("steps")
    if not isinstance(steps, list) or not isinstance(document.get("question"), str):
        msg = f"{path} is not a mur-graph trace: it lacks `question` or a list of `steps`"
        raise TraceError(msg)
    for number, step in enumerate(steps):
        missing = [key for key in _STEP_KEYS if key not in step]
        if missing:
            msg = f"{path}: step {number} lacks {', '.join(missing)}; is it a mur-graph trace?"
            raise TraceError(msg)
    return document


_STEP_KEYS = ("index", "text", "uncertainty", "momentum_before", "threshold", "gate_fired", "scaled")
