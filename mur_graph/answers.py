"""Finding and extracting the final answer in a step's text."""

from __future__ import annotations

import re
import string

ANSWER_PHRASE = "the answer is"
"""How a text states its final answer in words (matched in any case)."""
BOXED = "\\boxed{"
"""How a text states its final answer in LaTeX: `\\boxed{...}`."""


def has_answer(text: str) -> bool:
    r"""Return whether `text` states a final answer ("the answer is …" or `\\boxed{…}`)."""
    return ANSWER_PHRASE in text.lower() or BOXED in text


def extract_answer(text: str) -> str | None:
    r"""Return the final answer stated in `text`, or None.

    Takes the content of the last complete `\\boxed{…}` (braces balanced), else the text after the
    last "the answer is" up to the end of its line, without a leading colon or closing brace (of a
    `\\text{The answer is}`) or a trailing period.
    """
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed
    lowered = text.lower()
    at = lowered.rfind(ANSWER_PHRASE)
    if at < 0:
        return None
    # `\text{The answer is} 42`: the brace that closes the phrase's \text{} is not the answer.
    rest = text[at + len(ANSWER_PHRASE) :].lstrip(":}" + string.whitespace)
    rest = rest.splitlines()[0].strip() if rest else ""
    rest = re.sub(r"[.\s]+$", "", rest)
    rest = rest.strip("\"'*$ ")
    return rest or None


def answer_is_closed(text: str) -> bool:
    r"""Return whether the last answer statement in `text` visibly ends before the text does.

    A `\\boxed{…}` ends at its closing brace; "the answer is …" ends at a line break. Text that
    stopped on a token limit right after "the answer is 1" may have been about to write "1100":
    such an answer is not closed. Text with no answer statement counts as closed.
    """
    phrase_at = text.lower().rfind(ANSWER_PHRASE)
    boxed_at = text.rfind(BOXED)
    if boxed_at > phrase_at:
        return _last_boxed(text[boxed_at:]) is not None
    if phrase_at >= 0:
        return "\n" in text[phrase_at:]
    return True


def _last_boxed(text: str) -> str | None:
    start = text.rfind(BOXED)
    while start >= 0:
        depth, i = 1, start + len(BOXED)
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            return text[start + len(BOXED) : i - 1].strip()
        start = text.rfind(BOXED, 0, start)
    return None
