"""Fuzzing the calculator (hypothesis): no crash, no escape, never past its time limit.

Random text (mostly refused before it runs) and random expressions shaped like the calculator's
grammar (numbers, names, operators, calls; mostly computed by the worker). Bounded: together
they take about 10-30 s.
"""

import string
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mur_graph.tools import CalculatorResult, calculate, start_worker
from mur_graph.tools.engine import CONSTANTS, FUNCTIONS, SYMBOLS

TIMEOUT = 2.0
SLACK = 5.0  # reading the reply, killing the worker, on a loaded machine
FUZZ = settings(
    deadline=None,  # the time bound is asserted below, per call
    database=None,  # leave no .hypothesis folder in the tree
    suppress_health_check=[HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.sampled_from(
        ["0", "1", "2", "9", "10", "0.5", "1e3", "1e-3", "3.25", "10**100", "1e300", "999999999999"]
    ),
)
names = st.sampled_from([*SYMBOLS, *CONSTANTS, "os", "eval", "sys", "self"])


def _combine(children):
    operators = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "^"])
    return st.one_of(
        st.tuples(children, operators, children).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: f"{t[0]}{t[1]}"),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
    )


expressions = st.recursive(st.one_of(numbers, names), _combine, max_leaves=12)
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(string.printable), st.characters(codec="utf-8")), max_size=400
)


def _check(expression: str) -> CalculatorResult:
    start_worker()  # after a timeout the worker restarts: the time limit is the calculation's
    started = time.monotonic()
    result = calculate(expression, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert isinstance(result, CalculatorResult)
    assert elapsed < TIMEOUT + SLACK, f"{expression!r} took {elapsed:.1f} s"
    assert (result.value is None) != (result.error is None), result
    if result.error is not None:
        assert result.error.strip() and "sandbox" not in result.error, result
    else:
        assert isinstance(result.value, str) and 0 < len(result.value) <= 600
    return result


@settings(FUZZ, max_examples=1000)
@given(hostile_text)
def test_random_text_never_crashes_or_escapes(text):
    _check(text)


@settings(FUZZ, max_examples=600)
@given(expressions)
def test_random_expressions_never_crash_escape_or_run_past_the_time_limit(expression):
    _check(expression)
