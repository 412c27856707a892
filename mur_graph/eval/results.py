"""The results file of an evaluation: one JSON line per finished question, appended and fsync'd.

A run killed at any moment loses at most the question in flight: each record is written whole,
flushed and fsync'd before the next starts; a torn last line (killed mid-write) is cut off when
the file is opened again. Only one process may write a results file at a time (an exclusive
`flock`), so no question is ever recorded twice by concurrent runs.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mur_graph.config import MURConfig, settings_record
from mur_graph.errors import MURError
from mur_graph.scaling import DEFAULT_METHOD, method_setting_defaults, method_setting_names

SETTINGS_THAT_MAY_DIFFER = ("seed", "critic_concurrency")
"""Settings a resumed run may change without mixing incomparable results."""
_DEFAULTS = settings_record(MURConfig(), DEFAULT_METHOD, method_setting_defaults(DEFAULT_METHOD))

WRITTEN_WITH: Mapping[str, Any] = {"step_format": "prompted"}
"""The value a record lacking a setting was written with, where that is not today's default.

Records from before `step_format` existed were written with the paper's `Step<k>:` headers
(`prompted`, the default until issue #26 made it `natural`): they read as `prompted`, so they
resume only a `prompted` run and keep their names."""
_UNRECORDED = {**_DEFAULTS, **WRITTEN_WITH}
"""What a record lacking a setting holds: `_DEFAULTS`, except where `WRITTEN_WITH` says otherwise."""

UNNAMED: Mapping[str, Any] = _UNRECORDED
"""The values a file name leaves out: what a record lacking the setting holds, so the step format
stays `prompted` (the default the committed files were named under) and no name changes with the
default: a `natural` run stays `__fnatural`, a `prompted` run has no suffix (never `__fprompted`)."""

Settings = Mapping[str, Any] | MURConfig
"""A run's recorded settings (`graph.settings_record(config)`, a record's `settings`), or a bare
`MURConfig`: its settings with the default method."""


def _recorded(settings: Settings) -> Mapping[str, Any]:
    return settings_record(settings, DEFAULT_METHOD) if isinstance(settings, MURConfig) else settings


def results_name(dataset: str, settings: Settings) -> str:
    """File name of one (dataset, method, critic kind, mode, γ, variant, seed) cell.

    `settings` are a run's recorded settings (`graph.settings_record(config)`, or a record's).

    E.g. `math_500__guided_search__mur__g0.8.jsonl`; a critic kind other than the paper's
    generative one is named after the method: `math_500__guided_search__confidence__mur__g0.8.jsonl`.
    The variants end the name (`variant_parts`), then a seed other than 0 (`__s1`), so every arm
    of a comparison, and every seed, can share one folder.
    """
    full = {**_UNRECORDED, **_recorded(settings)}
    parts = [dataset, full["method"] or DEFAULT_METHOD]
    if full["critic_kind"] != UNNAMED["critic_kind"]:
        parts.append(full["critic_kind"])
    parts.append(full["mode"])
    if full["mode"] == "mur":
        parts.append(f"g{full['gamma']:g}")
    parts += variant_parts(full)
    if full["seed"]:
        parts.append(f"s{full['seed']}")
    return "__".join(parts) + ".jsonl"


@dataclass(frozen=True)
class Variant:
    """A setting that sets a run's cell apart: its part of the file name and how a report reads it."""

    prefix: str
    """The name part's start: the whole part of a flag (`bc`), followed by the value otherwise (`T0`)."""
    value: Callable[[Mapping[str, Any]], str | None]
    """The part's value for full settings ("" for a flag that is on), or None where it does not apply."""
    label: Callable[[str], str]
    """How the part reads after the method in a report, from its value: ` T=0`, ` + calculator`."""
    arm: bool = False
    """A flag that makes an arm, not a cell, in `mur-graph compare`: its files pair with those without it."""


def _differs(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    return lambda s: None if s[name] == UNNAMED[name] else f"{s[name]:g}"


VARIANTS: tuple[Variant, ...] = (
    Variant("bc", lambda s: "" if s["bias_correction"] else None, lambda _: " (bias-corrected)", arm=True),
    Variant("calc", lambda s: "" if s["calculator"] else None, lambda _: " + calculator", arm=True),
    Variant("T", _differs("temperature"), lambda v: f" T={v}"),
    Variant(
        "dT",
        lambda s: (
            None if s["draft_temperature"] is None or s["mode"] == "plain" else f"{s['draft_temperature']:g}"
        ),
        lambda v: f" drafts T={v}",
    ),
    Variant(
        "rd",
        lambda s: "" if s["reuse_draft"] and s["mode"] in ("mur", "per_step") else None,
        lambda _: " + draft reused",
    ),
    Variant(
        "pt",
        lambda s: (
            str(s["plain_tokens"])
            if s["mode"] == "plain" and s["plain_tokens"] != UNNAMED["plain_tokens"]
            else None
        ),
        lambda v: f" ≤{v} tokens",
    ),
    Variant(
        "f",
        lambda s: (
            None if s["step_format"] == UNNAMED["step_format"] or s["mode"] == "plain" else s["step_format"]
        ),
        lambda v: f" {v} format",
    ),
)
"""Every variant, in the order names list them: the one table that names files and labels rows."""


def variant_parts(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """What sets a run's cell apart beyond method, critic kind, mode, γ and seed, as short names.

    `bc` bias-corrected momentum, `calc` the calculator, `T0` a temperature other than 0.6, `dT0`
    a draft temperature of its own, `rd` the draft reused as candidate 0, `pt512` a `plain`
    mode token limit other than 1024, `fnatural` a step format other than `prompted` (`VARIANTS`;
    `prompted` is the unnamed one whatever the default, `UNNAMED`).
    A setting that older records lack reads as the value they were written with (`WRITTEN_WITH`).
    """
    full = {**_UNRECORDED, **settings}
    return tuple(v.prefix + value for v in VARIANTS if (value := v.value(full)) is not None)


def variant_label(parts: Sequence[str]) -> str:
    """How a cell's variant parts read after the method: ` (bias-corrected) + calculator`, ` T=0`."""
    by_length = sorted(VARIANTS, key=lambda v: len(v.prefix), reverse=True)  # `dT0` is no `T`
    labels = []
    for part in parts:
        variant = next((v for v in by_length if part.startswith(v.prefix)), None)
        labels.append(f" [{part}]" if variant is None else variant.label(part[len(variant.prefix) :]))
    return "".join(labels)


def dataset_label(source: str) -> str:
    """A short, file-name-safe label of a dataset path or hub name."""
    if not Path(source).exists():  # a hub dataset: keep its owner, file-name-safe
        return source.replace("/", "__")
    name = Path(source).name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name.removesuffix("_test")


def read_records(path: Path) -> list[dict[str, Any]]:
    """Return the complete records of a results file (a torn last line is ignored)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "id" in record:
            records.append(record)
    return records


def latest_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record of each question (a failed question retried later has two)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[str(record["id"])] = record
    return latest


class ResultsBusyError(MURError, RuntimeError):
    """Another process holds the results file."""


class ResultsFile:
    """An append-only, resumable results file, locked against concurrent writers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def __enter__(self) -> ResultsFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            msg = f"another process is writing {self.path}; wait for it or choose another --out"
            raise ResultsBusyError(msg) from exc
        self._handle = handle
        self._cut_torn_tail()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None

    def _cut_torn_tail(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            os.truncate(self.path, keep)

    def records(self) -> list[dict[str, Any]]:
        """All complete records, oldest first."""
        return read_records(self.path)

    def finished_ids(self, settings: Settings) -> set[str]:
        """Ids of questions already answered with these recorded settings (`graph.settings_record`).

        Raises:
            ValueError: the file holds results made with other settings.
        """
        finished = set()
        settings = _recorded(settings)
        wanted = _comparable(settings)
        for record in latest_by_id(self.records()).values():
            if _comparable(record.get("settings", {})) != wanted:
                msg = (
                    f"{self.path} holds results made with other settings "
                    f"({_difference(record.get('settings', {}), settings)}); choose another --out"
                )
                raise ValueError(msg)
            if record.get("status") == "ok":
                finished.add(str(record["id"]))
        return finished

    def append(self, record: dict[str, Any]) -> None:
        """Write one record whole, then fsync it.

        The line goes to the file in one `write` system call, not through a buffer that flushes a
        long record in 8 KiB pieces that a kill can separate. (The kernel may still stop a
        many-page write on SIGKILL; the torn tail is then cut when the file is opened again.)
        """
        if self._handle is None:
            msg = "ResultsFile must be opened with `with` before appending"
            raise RuntimeError(msg)
        line = memoryview((json.dumps(record, allow_nan=False) + "\n").encode())
        descriptor = self._handle.fileno()
        while line:  # a regular file takes it whole; loop in case a write is ever partial
            line = line[os.write(descriptor, line) :]
        os.fsync(descriptor)


def _comparable(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that must match; a setting older records lack reads as what they were written with.

    That is its default, or `WRITTEN_WITH`'s value (`step_format`: `prompted`). `plain` mode's
    step format does not count: it has none, so a plain run resumes whatever format it recorded.

    The record's method's own settings (φ's `clusters`, the critic's `critique_tokens`) count,
    at their defaults where a record lacks them; another method's own settings do not: older
    records hold every method's (`critique_tokens` at its demo limit 64 with a local model, say),
    newer ones only their method's.
    """
    own = method_setting_defaults(str({**_UNRECORDED, **settings}["method"]))
    others = set(method_setting_names()) - set(own)
    full = {**_UNRECORDED, **own, **settings}
    if full["mode"] == "plain":  # one call under the model's own template: no step format (nor in its name)
        others.add("step_format")
    return {k: v for k, v in full.items() if k not in SETTINGS_THAT_MAY_DIFFER and k not in others}


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    old, new = _comparable(old), _comparable(new)
    keys: Iterator[str] = iter(sorted(set(old) | set(new)))
    return ", ".join(
        f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys if old.get(k) != new.get(k)
    )
