"""Replayed model calls: a reproducible call asked again returns what the model answered the first time.

Runs of one question at several γ make the very same calls (same prompt, seed and settings) until
their gates first disagree, and a per-step run and a MUR run make the same candidate call on every
step where both scale from the same kept steps. A `CallCache` stores each answered call in a
SQLite file, so a γ sweep, a calibration or a rerun asks the model only where its runs diverge.

- **Key:** the model's identity as LangChain's own cache writes it (`_get_llm_string()`), the
  messages, and the call's n, stop strings, token limit, temperature, seed and top log-probs.
- **Only reproducible calls:** seeded, or greedy (temperature 0). An unseeded draw at a
  temperature above 0 is a fresh sample every time and is never stored.
- **Honest wall time:** a replayed call is charged the seconds it took when it ran
  (`counting_replays()`), so a run's wall time stays what it would have been without the cache.
- **Many processes:** the file is in SQLite's WAL mode; two benchmark processes can share it.

Why not LangChain's `set_llm_cache`: it also stores unseeded draws (two "independent" samples
would come back equal), its persistent caches live in langchain-community, and it cannot say how
long the stored call took.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumps
from langchain_core.messages import BaseMessage

__all__ = [
    "CallCache",
    "Replays",
    "active_call_cache",
    "call_key",
    "counting_replays",
    "replay_or_call",
    "using_call_cache",
]

Stored = list[dict[str, Any]]
"""One call's completions as JSON objects (the caller builds its own types from them)."""


class CallCache:
    """A SQLite file of answered model calls, safe to share between threads and processes.

    Example:
        ```python
        from mur_graph.models.call_cache import CallCache, using_call_cache

        with CallCache("calls.sqlite") as cache, using_call_cache(cache):
            for gamma in (0.7, 0.8, 0.9):
                graph.invoke({"question": q}, context=MURConfig(gamma=gamma, seed=0))
        ```
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        """Open (or create) the file.

        Raises:
            sqlite3.Error: the file is not a SQLite database, or cannot be written.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, completions TEXT NOT NULL, "
            "seconds REAL NOT NULL)"
        )
        self._db.execute("BEGIN IMMEDIATE")  # a file we cannot write fails here, not mid-run
        self._db.execute("ROLLBACK")

    def get(self, key: str) -> tuple[Stored, float] | None:
        """The stored completions of call `key` and the seconds it took, or None."""
        with self._lock:
            row = self._db.execute("SELECT completions, seconds FROM calls WHERE key = ?", (key,)).fetchone()
        return None if row is None else (json.loads(row[0]), float(row[1]))

    def put(self, key: str, completions: Stored, seconds: float) -> None:
        """Store call `key`; a call already stored (by another process, say) is kept as it was."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO calls VALUES (?, ?, ?)", (key, json.dumps(completions), seconds)
            )

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM calls").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Replays:
    """The calls one run replayed from the cache, and the seconds they took when they ran."""

    calls: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, seconds: float) -> None:
        """Count one replayed call that took `seconds` when it ran."""
        with self._lock:
            self.calls += 1
            self.seconds += seconds


_CACHE: ContextVar[CallCache | None] = ContextVar("mur_graph_call_cache", default=None)
_REPLAYS: ContextVar[Replays | None] = ContextVar("mur_graph_replays", default=None)


@contextmanager
def using_call_cache(cache: CallCache | None) -> Iterator[None]:
    """Replay and store the calls made in this block (and in the threads and tasks it starts).

    `None` leaves calls uncached, so callers can pass an optional cache straight through.
    """
    token = _CACHE.set(cache)
    try:
        yield
    finally:
        _CACHE.reset(token)


def active_call_cache() -> CallCache | None:
    """The cache of the current block, or None."""
    return _CACHE.get()


@contextmanager
def counting_replays() -> Iterator[Replays]:
    """Tally the calls replayed in this block (a run: one question's graph invocation)."""
    replays = Replays()
    token = _REPLAYS.set(replays)
    try:
        yield replays
    finally:
        _REPLAYS.reset(token)


def call_key(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    settings: dict[str, Any],
) -> str | None:
    """The cache key of one call, or None when the call is not reproducible.

    `settings` holds the call's n, stop, max_tokens, temperature, seed and top_logprobs.
    """
    if settings.get("seed") is None and settings.get("temperature", 1.0) > 0:
        return None
    plain = [m.model_copy(update={"id": None}) if m.id is not None else m for m in messages]
    identity = [model._get_llm_string(), dumps(plain), sorted(settings.items())]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()


def replay_or_call(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    settings: dict[str, Any],
    call: Callable[[], Stored],
) -> Stored:
    """Return the stored answer of this call, or make it with `call()` and store it.

    Outside `using_call_cache`, and for a call that is not reproducible, this is just `call()`.
    """
    cache = _CACHE.get()
    key = None if cache is None else call_key(model, messages, settings)
    if cache is None or key is None:
        return call()
    stored = cache.get(key)
    if stored is not None:
        completions, seconds = stored
        replays = _REPLAYS.get()
        if replays is not None:
            replays.add(seconds)
        return completions
    started = time.perf_counter()
    completions = call()
    cache.put(key, completions, time.perf_counter() - started)
    return completions
