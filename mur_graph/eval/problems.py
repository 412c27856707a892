"""Loading benchmark problems from local JSON/JSONL files (optionally gzipped) or the Hugging Face hub."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["math", "choice"]

QUESTION_FIELDS = ("input", "question", "problem", "Problem", "Question")
REFERENCE_FIELDS = ("target", "answer", "Answer")
ID_FIELDS = ("id", "problem_id", "unique_id")
_DATA_SUFFIXES = (".json", ".jsonl", ".gz")
_CHOICE_LETTERS = frozenset("ABCD")


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    Attributes:
        id: The record's `id`/`problem_id`/`unique_id`, or its index, as a string.
        question: The question text given to the model.
        reference: The reference answer (ints converted with `str()`).
        kind: "math" (free-form answer) or "choice" (a letter A–D).
        source: The file path or hub dataset name the problem came from.
        index: The record's position in the source.
    """

    id: str
    question: str
    reference: str
    kind: Kind
    source: str
    index: int


@dataclass(frozen=True)
class Skipped:
    """A record that could not be turned into a `Problem`, and why."""

    source: str
    index: int
    reason: str


def load_problems(
    source: str,
    *,
    split: str = "test",
    kind: Kind | None = None,
    limit: int | None = None,
    levels: Collection[int] | None = None,
    records: int | None = None,
) -> tuple[list[Problem], list[Skipped]]:
    """Load benchmark problems from a local file or a Hugging Face hub dataset.

    A `source` that exists as a file, or looks like a path (ends in .json/.jsonl/.gz, is absolute,
    starts with "." or "~", or has more than one "/"), is read as a file: `.json` (a list of
    records), `.jsonl` (a record per line), or either gzipped. Anything else is loaded with
    `datasets.load_dataset(source, split=split)`. Bad records are skipped and reported, never raised.

    Args:
        source: A file path or a hub dataset name such as "HuggingFaceH4/MATH-500".
        split: The hub split to load (ignored for files).
        kind: The kind of every problem; None detects "choice" when every reference is a letter A–D
            and every question contains "(A)", else "math".
        limit: Keep only the first `limit` valid problems (after the other filters).
        levels: Keep only records whose `level` (MATH's 1–5; "Level 2" also reads as 2) is one of
            these; a record without a level is skipped.
        records: Look only at the first `records` records of the source.

    Returns:
        The valid problems and the skipped records.

    Raises:
        FileNotFoundError: `source` looks like a path but no such file exists.
        ValueError: The file is empty, not valid JSON, not a list of records, or the hub dataset
            cannot be loaded.
    """
    for name, value in (("limit", limit), ("records", records)):
        if value is not None and value < 0:
            msg = f"{name} must be >= 0, got {value}"
            raise ValueError(msg)
    path = Path(source).expanduser()
    if path.is_file():
        rows: Iterable[tuple[int, Any, str | None]] = _read_file(path)
    elif _looks_like_path(source):
        msg = f"{source}: no such file"
        raise FileNotFoundError(msg)
    else:
        rows = _read_hub(source, split)

    fields: list[tuple[str, str, str, int]] = []
    skipped: list[Skipped] = []
    for index, record, error in rows:
        if (limit is not None and len(fields) >= limit) or (records is not None and index >= records):
            break
        if error is not None:
            skipped.append(Skipped(source, index, error))
            continue
        if levels is not None:
            level = record_level(record)
            if level is None:
                skipped.append(Skipped(source, index, "no level field (needed to filter by level)"))
                continue
            if level not in levels:
                continue
        parsed = _parse_record(record, index)
        if isinstance(parsed, str):
            skipped.append(Skipped(source, index, parsed))
        else:
            fields.append(parsed)

    chosen = kind if kind is not None else _detect_kind([(q, r) for _, q, r, _ in fields])
    problems = [Problem(pid, q, r, chosen, source, i) for pid, q, r, i in fields]
    return problems, skipped


def record_level(record: Any) -> int | None:
    """The difficulty level of a record (`level`: 2 or "Level 2"), or None when it has none."""
    value = record.get("level", record.get("Level")) if isinstance(record, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.search(r"\d+", value) if isinstance(value, str) else None
    return int(match.group()) if match else None


def parse_levels(text: str) -> set[int]:
    """Levels from the command line: `1,2`, `1-2` or `3`.

    Raises:
        ValueError: the text is not such a list.
    """
    levels: set[int] = set()
    for part in text.split(","):
        bounds = part.strip().split("-")
        if not 1 <= len(bounds) <= 2 or not all(b.strip().isdigit() for b in bounds):
            msg = f"invalid levels {text!r}: give numbers and ranges like 1,2 or 1-2"
            raise ValueError(msg)
        low, high = int(bounds[0]), int(bounds[-1])
        levels.update(range(low, high + 1))
    return levels


def _looks_like_path(source: str) -> bool:
    return (
        source.endswith(_DATA_SUFFIXES)
        or Path(source).is_absolute()
        or source.startswith((".", "~"))
        or source.count("/") > 1
        or "\\" in source
    )


def _read_file(path: Path) -> list[tuple[int, Any, str | None]]:
    """Return `(index, record, error)` triples from a local file; raise ValueError if it is unusable."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    inner = suffixes[-2] if gzipped and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    if inner not in (".json", ".jsonl"):
        msg = f"{path}: unsupported file type; expected .json, .jsonl, .json.gz or .jsonl.gz"
        raise ValueError(msg)
    try:
        raw = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read ({'gzip' if gzipped else 'file'}): {exc}"
        raise ValueError(msg) from exc
    if not text.strip():
        msg = f"{path}: empty file, no records"
        raise ValueError(msg)
    if inner == ".jsonl":
        return list(_jsonl_records(text))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        raise ValueError(msg) from exc
    if not isinstance(data, list):
        msg = f"{path}: expected a JSON list of records, got {type(data).__name__}"
        raise ValueError(msg)
    if not data:
        msg = f"{path}: no records"
        raise ValueError(msg)
    return [(i, record, None) for i, record in enumerate(data)]


def _jsonl_records(text: str) -> Iterator[tuple[int, Any, str | None]]:
    lines = [line for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        try:
            yield i, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield i, None, f"not valid JSON (column {exc.colno}): {exc.msg}"


def _read_hub(name: str, split: str) -> Iterator[tuple[int, Any, str | None]]:
    try:
        import datasets

        dataset = datasets.load_dataset(name, split=split)
    except Exception as exc:
        msg = (
            f"cannot load hub dataset {name!r} (split {split!r}): {exc}; "
            "pass a local file path (.json, .jsonl, optionally .gz) instead"
        )
        raise ValueError(msg) from exc
    return ((i, record, None) for i, record in enumerate(dataset))


def _first_field(record: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in record), None)


def _parse_record(record: Any, index: int) -> tuple[str, str, str, int] | str:
    """Return `(id, question, reference, index)` for a good record, or the reason it is skipped."""
    if not isinstance(record, dict):
        return f"record has type {type(record).__name__}, expected an object"
    q_field = _first_field(record, QUESTION_FIELDS)
    if q_field is None:
        return f"missing field: one of {', '.join(QUESTION_FIELDS)}"
    r_field = _first_field(record, REFERENCE_FIELDS)
    if r_field is None:
        return f"missing field: one of {', '.join(REFERENCE_FIELDS)}"
    question = record[q_field]
    if not isinstance(question, str):
        return f"field {q_field!r} has type {type(question).__name__}, expected str"
    if not question.strip():
        return f"field {q_field!r} is empty"
    reference = record[r_field]
    if isinstance(reference, bool) or not isinstance(reference, str | int):
        return f"field {r_field!r} has type {type(reference).__name__}, expected str or int"
    reference = str(reference).strip()
    if not reference:
        return f"field {r_field!r} is empty"
    id_field = next((name for name in ID_FIELDS if record.get(name) is not None), None)
    pid = str(record[id_field]) if id_field is not None else str(index)
    return pid, question, reference, index


def _detect_kind(pairs: list[tuple[str, str]]) -> Kind:
    if pairs and all(r.strip().upper() in _CHOICE_LETTERS and "(A)" in q for q, r in pairs):
        return "choice"
    return "math"
