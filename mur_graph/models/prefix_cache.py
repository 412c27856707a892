"""A small store of KV caches keyed by token ids, so that a step's prompt reuses the last step's work.

MUR's policy prompt for step t+1 is the prompt of step t, plus the kept step, plus the next
header; the N candidates of a scaled step share one prompt. `PrefixCacheStore` keeps the KV
cache of a few recent token sequences (prompt + generated tokens, one entry per sampled row);
a new call looks up the longest stored prefix of its prompt token ids and prefills only the
rest. Ids are compared, not text: re-tokenised text may split differently at a step boundary
than the generated ids did, and the match then simply ends there.

Stored tensors are never written: a transformers `DynamicLayer` grows by concatenation into new
tensors, so a cache built from slices of stored tensors can be extended by `generate` freely.
The store is bounded in entries and bytes (least recently used first out) and guarded by a lock,
as LangGraph runs sync nodes in threads and several calls may overlap on one model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Entry:
    ids: Any
    """Token ids [length] (a CPU LongTensor) whose keys and values `layers` hold."""
    layers: tuple[tuple[Any, Any], ...]
    """Per layer, keys and values [1, kv_heads, length, head_dim]."""
    nbytes: int


class PrefixCacheStore:
    """Least-recently-used KV caches of token sequences, bounded in entries and bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        """Create an empty store holding at most `max_entries` caches and `max_bytes` of tensors."""
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._next_key = 0
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of key/value tensors held now."""
        return self._bytes

    def clear(self) -> None:
        """Drop every stored cache."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def lookup(self, prompt_ids: Any, limit: int) -> tuple[int, tuple[tuple[Any, Any], ...]]:
        """Return (k, layers): the longest stored prefix of `prompt_ids` [length], cut at `limit`.

        `layers` are views of the stored tensors cut to k positions (empty when k is 0); the
        caller must not write into them.
        """
        best_key, best = -1, 0
        with self._lock:
            for key, entry in self._entries.items():
                shared = _common_prefix(entry.ids, prompt_ids)
                if shared > best:
                    best_key, best = key, shared
            best = min(best, limit)
            if best <= 0:
                return 0, ()
            self._entries.move_to_end(best_key)
            layers = self._entries[best_key].layers
        return best, tuple((k[:, :, :best], v[:, :, :best]) for k, v in layers)

    def store(self, ids: Any, layers: tuple[tuple[Any, Any], ...]) -> None:
        """Keep the cache of `ids` [length] (layers [1, kv_heads, length, head_dim], not shared)."""
        nbytes = sum(k.nbytes + v.nbytes for k, v in layers)
        if nbytes > self.max_bytes or self.max_entries < 1:
            return
        with self._lock:
            # A stored sequence that is a prefix of the new one is superseded by it.
            for key in [k for k, e in self._entries.items() if _common_prefix(e.ids, ids) == len(e.ids)]:
                self._bytes -= self._entries.pop(key).nbytes
            self._entries[self._next_key] = _Entry(ids=ids, layers=layers, nbytes=nbytes)
            self._next_key += 1
            self._bytes += nbytes
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


def _common_prefix(a: Any, b: Any) -> int:
    """Length of the common prefix of two 1-D id tensors."""
    m = min(len(a), len(b))
    differ = (a[:m] != b[:m]).nonzero()
    return int(differ[0, 0]) if len(differ) else m
