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

PROBE = "x"
"""A word tokenised after the text and dropped again: one token on its own, a word start anywhere."""


def tokenize_open_end(
    tokenize: Callable[[str], list[int]], decode: Callable[[Sequence[int]], str], text: str
) -> list[int]:
    """Token ids of `text`, its trailing whitespace cut as it would be before a word.

    `text` ending in whitespace is tokenised with `PROBE` after it and the probe's token dropped,
    when the tokens left decode to `text` exactly; otherwise, and for any other text, as it is.
    """
    plain = tokenize(text)
    if not text or not text[-1].isspace():
        return plain
    probe = tokenize(PROBE)
    probed = tokenize(text + PROBE)
    if len(probe) != 1 or probed[-1:] != probe:
        return plain
    head = probed[:-1]
    return head if head != plain and decode(head) == text else plain
