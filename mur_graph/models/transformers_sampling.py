"""The transformers backend's sampling: settings for `generate`, token-by-token decoding, row ends.

torch and transformers are imported when called.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mur_graph.models.base import Settings
from mur_graph.models.stop_text import StopText, stop_position
from mur_graph.models.transformers_cache import cache_arg

__all__ = [
    "Call",
    "StreamedText",
    "cut_rows",
    "decode_steps",
    "eos_ids",
    "sampling_settings",
    "seeded",
    "time_limit",
]


@dataclass(frozen=True, kw_only=True)
class Call(Settings):
    """One call's settings (`max_tokens` capped to what the context leaves) and its encoded prompt."""

    prompt_ids: Any
    """Prompt token ids [1, prompt_len] on the model's device."""
    eos_ids: list[int]

    @property
    def prompt_len(self) -> int:
        """Prompt tokens."""
        return int(self.prompt_ids.shape[1])


def sampling_settings(temperature: float) -> dict[str, Any]:
    """generate() settings: plain temperature sampling over the whole vocabulary, or greedy."""
    if temperature > 0:
        return {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
    return {"do_sample": False}


def time_limit(seconds: float) -> Any:
    """Stopping criteria that end generation after `seconds` (rows cut short finish with "length")."""
    from transformers import MaxTimeCriteria, StoppingCriteriaList

    return StoppingCriteriaList([MaxTimeCriteria(max_time=seconds)])


def decode_steps(
    model: Any, call: Call, cache: Any, deadline: float | None
) -> Generator[tuple[int, Any], None, None]:
    """Sample one token per forward from a cache of the prompt but its last token.

    Yields (token, raw log-probs [vocab]) until `max_tokens` or the `time.monotonic()` deadline.
    The draws are generate's: the argmax when greedy, else one multinomial draw from
    softmax(logits / T) on a generator seeded like `seeded`. No context is held across a yield
    (the consumer may resume it from another thread).
    """
    import torch

    generator = None
    if call.seed is not None:
        generator = torch.Generator(device=model.device).manual_seed(int(call.seed))
    next_ids = call.prompt_ids[:, -1:]  # [1, 1]
    for _ in range(call.max_tokens):
        with torch.inference_mode():
            out = model(input_ids=next_ids, use_cache=True, logits_to_keep=1, **{cache_arg(model): cache})
            logits = out.logits[:, -1].float()  # [1, vocab]
            if call.temperature > 0:
                probs = torch.softmax(logits / call.temperature, dim=-1)
                next_ids = torch.multinomial(probs, num_samples=1, generator=generator)
            else:
                next_ids = logits.argmax(dim=-1, keepdim=True)
            log_probs = torch.log_softmax(logits, dim=-1)[0]
        yield int(next_ids), log_probs
        if deadline is not None and time.monotonic() >= deadline:
            return


@dataclass
class StreamedText:
    """A reply streamed token by token: its generated ids, the text shown so far, and why it ended."""

    tokenizer: Any
    stop: list[str]
    eos_ids: list[int]
    ids: list[int] = field(default_factory=list)
    finish: str | None = None
    """`stop` once an end-of-sequence token or a stop string ended the reply."""
    _text: StopText = field(init=False)

    def __post_init__(self) -> None:
        self._text = StopText(self.stop)

    def add(self, token: int) -> str:
        """Take one generated token; return the text it lets the stream show (often all of it)."""
        self.ids.append(token)
        if token in self.eos_ids:  # counted as generated, never shown (as in `cut_rows`)
            self.finish = "stop"
            return ""
        shown = self._text.add(self.tokenizer.decode(self.ids, skip_special_tokens=True))
        if self._text.stopped:
            self.finish = "stop"
        return shown

    def rest(self) -> str:
        """The text not shown yet, once the reply has ended."""
        return self._text.rest()


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """The model's end-of-sequence token ids (its generation config's, else the tokenizer's)."""
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        msg = "the model and tokenizer define no end-of-sequence token; set generation_config.eos_token_id"
        raise ValueError(msg)
    return [eos] if isinstance(eos, int) else list(eos)


def cut_rows(
    rows: list[list[int]], tokenizer: Any, stop: Sequence[str], eos_ids: Sequence[int]
) -> list[tuple[int, str, str]]:
    """Find where each sampled row ends; return per row (tokens generated, text, finish reason).

    A row ends after its first end-of-sequence token (counted: it was generated) or after the
    token that completed a stop string (the stop string is cut from the text, as OpenAI does).
    The rest of the row is padding from the batch. The rows' texts are decoded in one call.
    """
    eos_at = [next((j for j, t in enumerate(ids) if t in eos_ids), None) for ids in rows]
    limits = [len(ids) if at is None else at for ids, at in zip(rows, eos_at, strict=True)]
    texts = tokenizer.batch_decode(
        [ids[:limit] for ids, limit in zip(rows, limits, strict=True)], skip_special_tokens=True
    )
    return [
        _cut_row(ids, text, limit, at, tokenizer, stop)
        for ids, text, limit, at in zip(rows, texts, limits, eos_at, strict=True)
    ]


def _cut_row(
    ids: list[int], text: str, limit: int, eos_at: int | None, tokenizer: Any, stop: Sequence[str]
) -> tuple[int, str, str]:
    """One row's (tokens generated, text, finish reason), given its decoded text up to `limit`."""
    pos = stop_position(text, stop)
    if pos is not None:
        # Smallest token count whose decoded text contains a stop string: decoding is monotone
        # in the prefix, so binary search needs log2(steps) decodes.
        lo, hi = 1, limit
        while lo < hi:
            mid = (lo + hi) // 2
            prefix = tokenizer.decode(ids[:mid], skip_special_tokens=True)
            if any(s in prefix for s in stop if s):
                hi = mid
            else:
                lo = mid + 1
        return lo, text[:pos], "stop"
    if eos_at is not None:
        return eos_at + 1, text, "stop"
    return len(ids), text, "length"


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed torch's generators for one call without disturbing the caller's random state."""
    import torch

    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
