r"""Tokenise a prompt that ends in whitespace as the model would have written it, more text to come.

A continued assistant turn ends where the model stopped, often after a blank line (the natural
step format's boundary). Some pre-tokenisers cut trailing whitespace differently at the end of a
text than before a word: GPT-2-style ones (SmolLM2's) write a blank line before a word as two
`\n` tokens but read a text that ends in one as a single `\n\n` token, a sequence the model
rarely saw in training, so the continuation departs from what the model writes in one go
(docs/benchmarks.md, "Where the natural format departs from the plain model"). Qwen's
pre-tokeniser keeps the run whole either way, so its prompts do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mur_graph.models.prefix_cache import common_prefix

PROBE = "x"
"""A word tokenised after the text and dropped again: one token on its own, a word start anywhere."""
SHARED_CONTEXT = 4
"""Tokens before the first difference decoded with both tails, so whatever a decoder does at the
start of a text (a stripped leading space, a character split across tokens) is the same for both."""


def tokenize_open_end(
    tokenize: Callable[[str], list[int]], decode: Callable[[Sequence[int]], str], text: str
) -> list[int]:
    """Token ids of `text`, its trailing whitespace cut as it would be before a word.

    `text` ending in whitespace is tokenised with `PROBE` after it and the probe's token dropped,
    when the tokens left are the same text: where they differ from `text`'s own tokens (its end),
    both decode alike and to `text`'s end. Otherwise, and for any other text, as it is. Only the
    tails are decoded: a whole prompt of 2,800 tokens took SmolLM2's llama.cpp decoder 30 ms.
    """
    plain = tokenize(text)
    if not text or not text[-1].isspace():
        return plain
    probe = tokenize(PROBE)
    probed = tokenize(text + PROBE)
    if len(probe) != 1 or probed[-1:] != probe:
        return plain
    head = probed[:-1]
    if head == plain:
        return plain
    start = max(0, common_prefix(head, plain) - SHARED_CONTEXT)
    tail = decode(head[start:])
    return head if tail == decode(plain[start:]) and text.endswith(tail) else plain
