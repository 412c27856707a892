"""Grading a model's answer against a problem's reference."""

from __future__ import annotations

import importlib.util
import re
import threading

from mur_graph.answers import ANSWER_PHRASE, BOXED
from mur_graph.eval.problems import Problem
from mur_graph.models import MissingDependencyError

_ANSWER_IS = ANSWER_PHRASE.removeprefix("the ")  # also after "the correct answer is"
_LETTER = re.compile(r"(?<![A-Za-z0-9])[A-D](?![A-Za-z0-9])")
_SOLUTION_TAIL = 300


def require_grader() -> None:
    """Fail before any question runs when math-verify, the grader, is not installed.

    Raises:
        MissingDependencyError: math-verify is missing; the message names the eval extra.
    """
    if importlib.util.find_spec("math_verify") is None:
        msg = "grading answers needs math-verify; install it with: pip install 'mur-graph[eval]'"
        raise MissingDependencyError(msg)


def extract_choice(text: str) -> str | None:
    r"""Return the letter A–D chosen in `text`, or None.

    Looks after the last `\boxed{` if any, else after the last "answer is" (any case), else in the
    whole text, and returns the first capital A–D standing as a token of its own (not next to a letter
    or digit): "(B)", "B.", "**C**" and "\boxed{D}" count, "Benzene" and "DNA" do not.
    """
    at = text.rfind(BOXED)
    if at >= 0:
        region = text[at + len(BOXED) :]
    else:
        at = text.lower().rfind(_ANSWER_IS)
        region = text[at + len(_ANSWER_IS) :] if at >= 0 else text
    match = _LETTER.search(region)
    return match.group(0) if match else None


def math_equal(reference: str, answer: str | None) -> bool:
    r"""Return whether `answer` is mathematically equal to `reference`, using math-verify.

    A reference without `$` is wrapped in `$…$` (MATH references are bare LaTeX); so is the answer
    unless it already contains `$` or `\boxed`. Outside the main thread math-verify's signal-based
    timeouts are turned off, since signals only work in the main thread.

    Args:
        reference: The reference answer.
        answer: The model's answer, or None when it gave none.

    Returns:
        True when math-verify judges them equal; False for a missing or blank answer or on any error.
    """
    if answer is None or not answer.strip():
        return False
    from math_verify import parse, verify

    gold_text = reference if "$" in reference else f"${reference}$"
    answer_text = answer if "$" in answer or "\\boxed" in answer else f"${answer}$"
    in_main = threading.current_thread() is threading.main_thread()
    try:
        if in_main:
            gold = parse(gold_text)
            target = parse(answer_text)
            return bool(verify(gold, target))
        gold = parse(gold_text, parsing_timeout=None)
        target = parse(answer_text, parsing_timeout=None)
        return bool(verify(gold, target, timeout_seconds=None))
    except Exception:
        return False


def grade(problem: Problem, answer: str | None, solution: str) -> bool:
    """Return whether a model's answer to `problem` is correct.

    Args:
        problem: The problem, with its reference and kind.
        answer: The extracted final answer, or None.
        solution: The model's whole solution text; for a "choice" problem its last 300 characters
            are searched for a letter when `answer` yields none.

    Returns:
        True when the answer matches the reference.
    """
    if problem.kind == "choice":
        letter = extract_choice(answer) if answer is not None else None
        if letter is None:
            letter = extract_choice(solution[-_SOLUTION_TAIL:])
        return letter is not None and letter == problem.reference.strip().upper()
    return math_equal(problem.reference, answer)
