r"""What a step asserts that another candidate step can agree with: its answer and its results.

The `vote` critic counts agreement between candidates. A step rarely states the final answer,
so it also compares the numbers a step computes: the value right after an `=` when that value is
the whole right-hand side (`6 \times 21 = 126 inches` → 126; `V = 45\pi` and `= 6 \times 21`
are not results), given as an integer, a decimal or a fraction (`\frac{5}{3}`, `5/3`). Numbers are
compared exactly (`0.75`, `3/4` and `\frac{3}{4}` agree); answers loosely (no spaces, `$`,
`\text{}` or case). Plain Python; nothing here evaluates model-written text.
"""

from __future__ import annotations

import re
from fractions import Fraction

from mur_graph.answers import extract_answer

_FRAC = r"\\[dt]?frac\{(-?\d+)\}\{(\d+)\}"
_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
_RESULT = re.compile(rf"=\s*\$?\s*(?P<value>{_FRAC}|{_NUMBER}(?:\s*/\s*\d+)?)")
_WORD_UNIT = re.compile(r"\s+[A-Za-z%°]")
"""A value followed by a space and a word has a unit (`126 inches`): still a result."""
_END = re.compile(r"\s*(?:$|[.,;:!?)\]}$\n]|\\\)|\\\]|\\text\b|\\,|\\%|\\quad\b)")
"""What may follow a result: the end, punctuation, closing math, a `\text{unit}`."""


def step_claims(text: str, calculator_results: list[str] | None = None) -> frozenset[str]:
    """The claims of a step: `answer:…` for its stated answer, `result:…` per number it computes.

    `calculator_results` are the outputs of the step's calculator calls; they are results too.
    A stated answer that is a number is also a result, so a step that computes 126 agrees with
    one that answers 126.
    """
    found: set[str] = set()
    answer = extract_answer(text)
    if answer:
        found.add("answer:" + normal_answer(answer))
        number = exact_number(answer)
        if number is not None:
            found.add(f"result:{number}")
    for match in _RESULT.finditer(text):
        rest = text[match.end() :]
        if not (_END.match(rest) or _WORD_UNIT.match(rest)):
            continue  # `= 45\pi`, `= 2x`, `= 6 \times 21`: not a whole value
        number = exact_number(match["value"])
        if number is not None:
            found.add(f"result:{number}")
    for output in calculator_results or []:
        number = exact_number(output)
        found.add(f"result:{number}" if number is not None else "result:" + normal_answer(output))
    return frozenset(found)


def exact_number(text: str) -> Fraction | None:
    r"""`text` as an exact number (`1,250`, `-0.75`, `3/4`, `\frac{3}{4}`), or None."""
    cleaned = re.sub(r"[\s$,]", "", text)
    frac = re.fullmatch(_FRAC, cleaned)
    if frac:
        cleaned = f"{frac[1]}/{frac[2]}"
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        return None


def normal_answer(text: str) -> str:
    r"""An answer compared loosely: `\text{…}` unwrapped; no spaces, `$`, trailing period or case."""
    unwrapped = re.sub(r"\\(?:text|mathrm|textbf)\{([^{}]*)\}", r"\1", text)
    return re.sub(r"[\s$]+", "", unwrapped).rstrip(".").lower()
