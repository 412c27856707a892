"""The calculator: exact results, and every hostile input refused with a clear message."""

import ast
import builtins
import json
import re
import time

import pytest

from mur_graph.errors import MURError
from mur_graph.tools import calculate, start_worker
from mur_graph.tools import calculator as calculator_module
from mur_graph.tools.calculator import calculator
from mur_graph.tools.engine import (
    CONSTANTS,
    FUNCTIONS,
    MAX_CHARS,
    MAX_DIGITS,
    SYMBOLS,
    MathError,
    Refused,
    _Builder,
    answer,
    check_expression,
    evaluate,
)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2**10", "1024"),
        ("2^10", "1024"),
        ("2^3+1", "9"),  # ^ is a power with **'s precedence, not XOR
        ("1/3+1/6", "1/2"),
        ("48/2", "24"),
        ("sqrt(8)", "2*sqrt(2)"),
        ("7//2", "3"),
        ("7 % 3", "1"),
        ("-(3 - 5)", "2"),
        ("0.1 + 0.2", "0.3"),  # decimals are exact
        ("7.5/2", "3.75"),
        ("1.0/3", "0.333333333333333"),
        ("2.5*4", "10"),
        ("1e3 + 1", "1001"),
        ("gcd(12, 18) + lcm(4, 6)", "18"),
        ("factorial(5) / binomial(5, 2)", "12"),
        ("log(8, 2)", "3"),
        ("Rational(1, 3) + 1", "4/3"),
        ("Abs(-4) + abs(-1)", "5"),
        ("floor(7/2) + ceiling(7/2)", "7"),
        ("Mod(10, 3)", "1"),
        ("max(3, 4) + min(3, 4)", "7"),
        ("N(pi, 10)", "3.141592654"),
        ("isprime(2**127 - 1)", "True"),
        ("expand((x+1)**2)", "x**2 + 2*x + 1"),
        ("factor(x**2 - 1)", "(x - 1)*(x + 1)"),
        ("simplify(sin(x)**2 + cos(x)**2)", "1"),
        ("solve(x**2 - 4, x)", "[-2, 2]"),
        ("diff(x**3, x)", "3*x**2"),
        ("2**-3", "1/8"),
        ("1**(10**400)", "1"),
    ],
)
def test_exact_results(expression, value):
    result = calculate(expression)
    assert (result.value, result.error, result.ok) == (value, None, True)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "underscores are not allowed"),
        ("().__class__", "underscores are not allowed"),
        ("x.real", "attribute access"),
        ("pi.evalf", "attribute access"),
        ("lambda: 1", "no lambdas"),
        ("(x for x in y)", "comprehensions"),
        ("'abc'", "strings are not allowed"),
        ('"2" + "2"', "strings are not allowed"),
        ("open", "unknown name 'open'"),
        ("eval(1)", "unknown name 'eval'"),
        ("exp", "is a function; call it"),
        ("x(2)", "x is not a function"),
        ("2(3+4)", "write 2*(3+4)"),
        ("1,000", "write 1000, not 1,000"),
        ("x == 2", "without '='"),
        ("1 < 2", "comparisons are not allowed"),
        ("5!", "factorial(n)"),
        ("[1, 2]", "brackets"),
        ("1; 2", "only one expression"),
        ("1\n2", "only one line"),
        ("2 × 3", "only ASCII"),
        ("２+２", "only ASCII"),  # fullwidth digits: a unicode trick
        ("x\u200b+1", "only ASCII"),  # zero-width space
        ("True", "the literal True"),
        ("...", "'...' is not allowed"),
        ("2j", "the literal 2j"),
        ("not 1", "unary + and -"),
        ("1 if x else 2", "'if' expressions"),
        ("1 and 2", "'and'/'or'"),
        ("1 & 2", "not a calculator symbol"),
        ("solve(x, *y)", "unpacking"),
        ("(yield)", "yield"),
        ("1e999", "too large"),
        ("1e-9999", f"more than {MAX_DIGITS} digits"),
        ("9" * 100_000, f"the limit is {MAX_CHARS}"),
        ("(" * 50 + "1" + ")" * 50, "nested more than 20 deep"),
        ("-" * 100 + "1", "nested more than 30 deep"),
        ("+".join(["1"] * 70), "nested more than"),
        ("sqrt(1, 2, 3, 4, 5)", "at most 4 arguments"),
        ("", "empty"),
        ("1 +", "not a valid expression"),
    ],
)
def test_hostile_or_malformed_input_is_refused_before_anything_runs(expression, message, monkeypatch):
    def never(*args, **kwargs):
        msg = "a refused expression reached the worker"
        raise AssertionError(msg)

    monkeypatch.setattr(calculator_module._WORKER, "ask", never)
    result = calculate(expression)
    assert result.refused and result.value is None
    assert message in result.error
    with pytest.raises(Refused, match=re.escape(message)):
        check_expression(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("9**9**9**9", "9**387420489 would have about 3.7e+08 digits"),
        ("10**100000", "10**100000 would have about 1e+05 digits"),
        ("2**-10000", "digits"),
        ("factorial(10**6)", "factorial(1000000) would have more than"),
        ("binomial(10**6, 500000)", "would have more than"),
        ("(x+1)**1000", "exponent 1000 is too large"),
        ("sqrt(2)**(10**9)", "too large"),
        ("N(pi, 10**6)", "N(expression, digits) takes 1 to 50 digits"),
        ("(10**300)*(10**300)", f"more than {MAX_DIGITS} digits"),
    ],
)
def test_huge_computations_are_refused_before_the_costly_operation(expression, message):
    reply = answer(expression)  # in this process, with no time limit: only the guard can stop it
    assert reply["refused"] and reply["value"] is None and message in reply["error"]
    result = calculate(expression)
    assert result.refused and message in result.error


@pytest.mark.parametrize(
    ("expression", "message"),
    [("1/0", "division by zero"), ("0/0", "undefined"), ("Rational(1.5, 2)", "takes two integers")],
)
def test_math_errors_are_reported_not_raised(expression, message):
    result = calculate(expression)
    assert not result.ok and not result.refused and message in result.error
    assert result.text == f"error: {result.error}"


def test_a_calculation_past_the_time_limit_is_killed_and_the_next_one_works():
    start_worker()
    started = time.monotonic()
    slow = calculate("expand((x+y+z+a+b+c+k+m+t+n)**60)", timeout=1.0)
    elapsed = time.monotonic() - started
    assert slow.error == "the calculation took longer than 1 s" and not slow.ok
    # killed at the limit; the slack covers killing the worker on a loaded machine, far below
    # the minutes the expansion itself would take
    assert elapsed < 1.0 + 5.0
    assert calculate("6*7").value == "42"


def test_the_langchain_tool_returns_the_value_or_the_error():
    assert calculator.name == "calculator"
    assert calculator.invoke({"expression": "sqrt(8)"}) == "2*sqrt(2)"
    assert calculator.invoke({"expression": "__import__('os')"}).startswith("error: character '_'")


def test_evaluation_never_calls_eval_exec_or_open_and_imports_only_sympy():
    expressions = ["1/3+1/6", "expand((x+1)**3)", "solve(x**2-4, x)", "N(sqrt(2), 20)", "factor(x**3-x)"]
    for expression in expressions:  # let sympy import what it loads lazily
        evaluate(expression)
    seen = []
    real = {name: getattr(builtins, name) for name in ("eval", "exec", "compile", "open", "__import__")}

    def watch(name):
        def call(*args, **kwargs):
            if name == "__import__":
                level = args[4] if len(args) > 4 else kwargs.get("level", 0)
                seen.append((name, args[0] if level == 0 else "." + args[0]))
            elif name == "compile":  # ast.parse compiles to a syntax tree only, which runs nothing
                only_ast = (args[3] if len(args) > 3 else kwargs.get("flags", 0)) & ast.PyCF_ONLY_AST
                seen.append((name, "ast" if only_ast else "code"))
            else:
                seen.append((name, repr(args[:1])))
            return real[name](*args, **kwargs)

        return call

    try:
        for name in real:
            setattr(builtins, name, watch(name))
        results = [evaluate(expression) for expression in expressions]
    finally:
        for name, function in real.items():
            setattr(builtins, name, function)
    assert results == [
        "1/2",
        "x**3 + 3*x**2 + 3*x + 1",
        "[-2, 2]",
        "1.4142135623730950488",
        "x*(x - 1)*(x + 1)",
    ]
    assert {what for name, what in seen if name == "compile"} == {"ast"}
    assert not [call for call in seen if call[0] in ("eval", "exec", "open")]
    packages = {
        what.split(".")[0] for name, what in seen if name == "__import__" and not what.startswith(".")
    }
    assert packages <= {"sympy", "mpmath", "numbers"}


def test_the_worker_refuses_to_start_processes_or_write_files():
    from mur_graph.tools import sandbox

    with pytest.raises(PermissionError):
        sandbox.audit("subprocess.Popen", ("ls", ["ls"], None, None))
    with pytest.raises(PermissionError):
        sandbox.audit("open", ("/tmp/x", "w", 0))
    with pytest.raises(PermissionError):
        sandbox.audit("open", ("/etc/passwd", "r", 0))
    sandbox.audit("open", (json.__file__, "r", 0))  # sympy's lazy imports read installed files
    sandbox.violations.clear()


def test_the_documented_function_list_is_what_the_builder_can_call():
    builder = _Builder("1")
    assert sorted(builder.functions) == sorted(FUNCTIONS)
    assert set(builder.names) == {*SYMBOLS, *CONSTANTS}


def test_the_engines_errors_are_mur_errors_and_keep_their_builtin_base():
    assert issubclass(Refused, MURError) and issubclass(Refused, ValueError)
    assert issubclass(MathError, MURError) and issubclass(MathError, ValueError)
