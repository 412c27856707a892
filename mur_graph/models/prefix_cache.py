"""A small store of encoded prefixes keyed by token ids, so that a call reuses an earlier call's work.

MUR's policy prompt for step t+1 is the prompt of step t, plus the kept step, plus the next
header; the N candidates of a scaled step share one prompt; the critic prompts of one step share
their head. `PrefixCacheStore` keeps what a backend needs to resume a few recent token sequences
(transformers: their KV tensors; llama.cpp: a saved sequence state); a new call looks up the
stored sequence sharing the longest prefix with its prompt and encodes only the rest. Ids are
compared, not text: re-tokenised text may split differently at a step boundary than the generated
ids did, and the match then simply ends there.

The store is bounded in entries and bytes (least recently used first out) and guarded by a lock,
as LangGraph runs sync nodes in threads and several calls may overlap on one model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["PrefixCacheStore", "Stored", "common_prefix"]

V = TypeVar("V")


@dataclass(frozen=True)
class Stored(Generic[V]):
    """One stored sequence: its token ids and what resumes it."""

    ids: tuple[int, ...]
    value: V
    nbytes: int


class PrefixCacheStore(Generic[V]):
    """Least-recently-used values of token sequences, bounded in entries and bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        """Create an empty store holding at most `max_entries` values and `max_bytes` bytes of them."""
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, ...], Stored[V]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of the values held now."""
        return self._bytes

    def clear(self) -> None:
        """Drop every stored value."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def lookup(self, ids: Sequence[int]) -> tuple[int, Stored[V] | None]:
        """Return (shared tokens, entry) of the stored sequence sharing the longest prefix with `ids`.

        (0, None) when none shares a token; a hit becomes the most recently used.
        """
        best, found = 0, None
        with self._lock:
            for entry in self._entries.values():
                shared = common_prefix(entry.ids, ids)
                if shared > best:
                    best, found = shared, entry
            if found is not None:
                self._entries.move_to_end(found.ids)
        return best, found

    def store(self, ids: Sequence[int], value: V, nbytes: int) -> None:
        """Keep `value` (`nbytes` bytes) for `ids`; a stored prefix of `ids` is superseded by it."""
        if nbytes > self.max_bytes or self.max_entries < 1:
            return
        key = tuple(ids)
        with self._lock:
            for old in [k for k in self._entries if key[: len(k)] == k]:
                self._bytes -= self._entries.pop(old).nbytes
            self._entries[key] = Stored(key, value, nbytes)
            self._bytes += nbytes
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the common prefix of two id sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
