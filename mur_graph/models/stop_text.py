"""Stop strings over generated text: where one ends a reply, and what a stream may show before it.

Both in-process backends cut a reply at its first stop string (the stop string itself is cut, as
OpenAI does) and, when streaming, hold back text that may still be the start of one.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["StopText", "shown_length", "stop_position"]


def stop_position(text: str, stops: Sequence[str]) -> int | None:
    """Where the first stop string in `text` begins, or None."""
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def shown_length(text: str, stops: Sequence[str]) -> int:
    """How much of `text` a stream may show now.

    Held back: a tail that may begin a stop string, and a trailing U+FFFD (a character whose
    bytes are not all generated yet).
    """
    end = len(text.rstrip("\ufffd"))
    held = [k for s in stops for k in range(1, len(s)) if text.endswith(s[:k], 0, end)]
    return end - max(held, default=0)


class StopText:
    """The text of a reply generated so far, released up to where a stop string might still begin."""

    def __init__(self, stops: Sequence[str]) -> None:
        """Watch for `stops` (empty strings are ignored)."""
        self.stops = tuple(s for s in stops if s)
        self.text = ""
        """The reply so far; once a stop string completed, the text before it."""
        self.released = 0
        """Characters of `text` already released."""
        self.stopped = False
        """Whether a stop string completed: the reply ends, and `rest()` releases what preceded it."""

    def add(self, text: str) -> str:
        """Take the whole text decoded so far; return what it newly lets a stream show."""
        cut = stop_position(text, self.stops)
        if cut is not None:
            self.text, self.stopped = text[:cut], True
            return ""
        self.text = text
        return self._release(shown_length(text, self.stops))

    def rest(self) -> str:
        """Release the held-back rest (the reply ended)."""
        return self._release(len(self.text))

    def _release(self, upto: int) -> str:
        new = self.text[self.released : upto]
        self.released = max(self.released, upto)
        return new
