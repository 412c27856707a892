"""The calculator's engine: validate an expression, then build its value with sympy, node by node.

Self-contained on purpose (standard library and sympy only; `mur_graph.errors` only when
imported as part of the package): the calculator's worker process (`sandbox.py`, run with
`python -I`) loads this file by path, and
`calculate()` also uses `check_expression` in the calling process to refuse bad input without
starting the worker.

Nothing here evaluates text: the expression is parsed by `ast.parse` (which does not run
anything), every node is checked against an allow-list, and the value is built from the nodes
by calling allow-listed sympy functions on sympy objects, never `sympify`, `eval` or `exec`.
Each costly operation is size-checked before it runs. See docs/security.md.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Callable
from decimal import Context, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

MAX_CHARS = 300
"""Longest expression accepted (characters)."""
MAX_NESTING = 20
"""Deepest parenthesis nesting accepted."""
MAX_NODES = 120
"""Most syntax-tree nodes accepted (numbers, names, operators, calls)."""
MAX_DEPTH = 30
"""Deepest syntax tree accepted."""
MAX_DIGITS = 500
"""Most digits of any integer, numerator or denominator, in an input, an intermediate value or the result."""
MAX_SYMBOLIC_EXPONENT = 100
"""Largest integer exponent of a base that is not a rational number (e.g. (x+1)**100)."""
MAX_PRECISION = 50
"""Most significant digits N(expr, digits) may ask for."""
MAX_OUTPUT_CHARS = 600
"""Longest result text returned."""
DECIMAL_DIGITS = 15
"""Significant digits of a decimal result (when the expression was written with decimals)."""

ALLOWED_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-*/%^().,")

_CHARACTER_HINTS = {
    "_": "underscores are not allowed (no dunder names)",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "=": "write only the expression, without '=' or comparisons",
    "<": "comparisons are not allowed",
    ">": "comparisons are not allowed",
    "!": "write factorial(n) instead of n!",
    "[": "brackets are not allowed; use parentheses",
    "]": "brackets are not allowed; use parentheses",
    "{": "braces are not allowed; use parentheses",
    "}": "braces are not allowed; use parentheses",
    ":": "':' is not allowed (no lambdas, slices or assignments)",
    ";": "only one expression is allowed",
    "\n": "only one line is allowed",
}

SYMBOLS = ("x", "y", "z", "n", "a", "b", "c", "k", "m", "t")
"""Names that stand for symbols, for algebra (expand, factor, solve, diff)."""
CONSTANTS = ("pi", "E", "I")
FUNCTIONS = (
    "sqrt cbrt root Abs abs floor ceiling ceil gcd lcm factorial binomial log ln exp sin cos tan "
    "asin acos atan Rational Mod mod Min Max min max simplify expand factor solve diff N isprime"
).split()
"""Names that may be called; `abs`, `ceil`, `ln`, `mod`, `min`, `max` are aliases."""

_NODE_NAMES = {
    ast.Attribute: "attribute access (.name)",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if' expressions",
    ast.Starred: "unpacking (*args)",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.NamedExpr: "assignment",
    ast.JoinedStr: "strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}

_DECIMAL = re.compile(r"(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?")


if TYPE_CHECKING or __package__:  # imported as mur_graph.tools.engine
    from mur_graph.errors import MURError
else:  # loaded alone by the worker (`sandbox.py`), which imports nothing of mur_graph

    class MURError(Exception):
        """Stands in for `mur_graph.errors.MURError` inside the worker."""


class Refused(MURError, ValueError):
    """The expression is not run: it breaks an allow-list or a bound. The message says which."""


class MathError(MURError, ValueError):
    """The expression was run and has no value (e.g. division by zero)."""


def check_expression(expression: str) -> ast.Expression:
    """Parse and validate `expression`; return its syntax tree. Nothing is evaluated.

    Raises:
        Refused: too long, a character or construct outside the allow-list, or too big a tree.
    """
    if not isinstance(expression, str):
        msg = f"the expression must be text, not {type(expression).__name__}"
        raise Refused(msg)
    text = expression.strip()
    if not text:
        msg = "the expression is empty"
        raise Refused(msg)
    if len(text) > MAX_CHARS:
        msg = f"the expression has {len(text)} characters; the limit is {MAX_CHARS}"
        raise Refused(msg)
    for char in text:
        if char not in ALLOWED_CHARACTERS:
            hint = _CHARACTER_HINTS.get(char, "not a calculator symbol")
            if not char.isascii():
                hint = "only ASCII (write * for ×, / for ÷, sqrt() for √)"
            msg = f"character {char!r} is not allowed: {hint}"
            raise Refused(msg)
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth > MAX_NESTING:
            msg = f"parentheses are nested more than {MAX_NESTING} deep"
            raise Refused(msg)
    text = text.replace("^", "**")  # the usual power sign; replaced before parsing, so precedence is **'s
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = f"not a valid expression ({getattr(exc, 'msg', None) or type(exc).__name__})"
        raise Refused(msg) from None
    _check_tree(tree, text)
    return tree


def _check_tree(tree: ast.Expression, text: str) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            msg = f"the expression has more than {MAX_NODES} parts; split it into smaller calculations"
            raise Refused(msg)
        if depth > MAX_DEPTH:
            msg = f"the expression is nested more than {MAX_DEPTH} deep"
            raise Refused(msg)
        children = _check_node(node, text, is_root=depth == 1)
        stack.extend((child, depth + 1) for child in children)


def _check_node(node: ast.AST, text: str, *, is_root: bool) -> list[ast.AST]:
    """Check one node; return the children to check next."""
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.FloorDiv | ast.Mod | ast.Pow):
            msg = "only + - * / // % and ** (or ^) are allowed as operators"
            raise Refused(msg)
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.UAdd | ast.USub):
            msg = "only unary + and - are allowed ('not' and '~' are not)"
            raise Refused(msg)
        return [node.operand]
    if isinstance(node, ast.Constant):
        _check_number(node, text)
        return []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            msg = f"{node.id} is a function; call it as {node.id}(...)"
            raise Refused(msg)
        if node.id not in SYMBOLS and node.id not in CONSTANTS:
            raise Refused(_unknown_name(node.id))
        return []
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            msg = "only named functions can be called; write 2*(3+4), not 2(3+4)"
            raise Refused(msg)
        if node.func.id not in FUNCTIONS:
            if node.func.id in SYMBOLS or node.func.id in CONSTANTS:
                msg = f"{node.func.id} is not a function; write {node.func.id}*(...) to multiply"
                raise Refused(msg)
            raise Refused(_unknown_name(node.func.id))
        if node.keywords:
            msg = "keyword arguments are not allowed"
            raise Refused(msg)
        if len(node.args) > 4:
            msg = f"{node.func.id}() takes at most 4 arguments here"
            raise Refused(msg)
        return list(node.args)
    if is_root and isinstance(node, ast.Tuple):
        msg = "commas only separate function arguments; write 1000, not 1,000"
        raise Refused(msg)
    what = _NODE_NAMES.get(type(node), type(node).__name__)
    msg = f"not allowed in a calculation: {what}"
    raise Refused(msg)


def _unknown_name(name: str) -> str:
    return (
        f"unknown name {name!r}; the calculator knows the functions {', '.join(FUNCTIONS)}, "
        f"the constants {', '.join(CONSTANTS)} and the symbols {', '.join(SYMBOLS)}"
    )


def _check_number(node: ast.Constant, text: str) -> None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "'...'" if value is Ellipsis else f"the literal {value!r}"
        msg = f"{what} is not allowed; only numbers, names and operators are"
        raise Refused(msg)
    if isinstance(value, int) and value.bit_length() > MAX_DIGITS * 3.33:
        msg = f"a number has more than {MAX_DIGITS} digits"
        raise Refused(msg)
    if isinstance(value, float):
        _decimal_fraction(node, text)


def _decimal_fraction(node: ast.Constant, text: str) -> Fraction:
    """The exact value of a decimal literal, read from its source text (0.1 is 1/10)."""
    source = ast.get_source_segment(text, node) or ""
    match = _DECIMAL.fullmatch(source)
    if not match or not isinstance(node.value, float) or not math.isfinite(node.value):
        msg = f"the number {source!r} is not a plain decimal, or is too large"
        raise Refused(msg)
    exponent = int(match.group(3) or 0)
    if abs(exponent) + len(match.group(1)) + len(match.group(2)) > MAX_DIGITS:
        msg = f"the number {source!r} would have more than {MAX_DIGITS} digits"
        raise Refused(msg)
    return Fraction(source)


def evaluate(expression: str) -> str:
    """Validate `expression`, build its value with sympy and return it as text.

    Raises:
        Refused: the expression breaks an allow-list or a bound (nothing costly ran).
        MathError: it has no value (division by zero, an undefined result, sympy could not do it).
    """
    tree = check_expression(expression)
    text = expression.strip().replace("^", "**")
    builder = _Builder(text)
    value = builder.build(tree.body)
    return _format(value, decimal=builder.decimal)


class _Builder:
    """Turns a checked syntax tree into a sympy value, guarding each costly operation."""

    def __init__(self, text: str) -> None:
        import sympy

        self.sp = sympy
        self.text = text
        self.decimal = False
        """Whether a decimal literal was written (then a fractional result is shown as a decimal)."""
        sp = sympy
        self.names: dict[str, Any] = {name: sp.Symbol(name) for name in SYMBOLS}
        self.names |= {"pi": sp.pi, "E": sp.E, "I": sp.I}
        self.functions: dict[str, Callable[..., Any]] = {
            "sqrt": sp.sqrt, "cbrt": sp.cbrt, "root": self._root, "Abs": sp.Abs, "abs": sp.Abs,
            "floor": sp.floor, "ceiling": sp.ceiling, "ceil": sp.ceiling, "gcd": sp.gcd, "lcm": sp.lcm,
            "factorial": self._factorial, "binomial": self._binomial, "log": sp.log, "ln": sp.log,
            "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin,
            "acos": sp.acos, "atan": sp.atan, "Rational": self._rational, "Mod": sp.Mod, "mod": sp.Mod,
            "Min": sp.Min, "Max": sp.Max, "min": sp.Min, "max": sp.Max, "simplify": sp.simplify,
            "expand": sp.expand, "factor": sp.factor, "solve": self._solve, "diff": self._diff,
            "N": self._numeric, "isprime": self._isprime,
        }  # fmt: skip

    def build(self, node: ast.AST) -> Any:
        value = self._node(node)
        self._check_size(value)
        return value

    def _node(self, node: ast.AST) -> Any:
        sp = self.sp
        if isinstance(node, ast.Constant):
            if isinstance(node.value, float):
                self.decimal = True
                exact = _decimal_fraction(node, self.text)
                return sp.Rational(exact.numerator, exact.denominator)
            return sp.Integer(node.value)
        if isinstance(node, ast.Name):
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = self.build(node.left), self.build(node.right)
            return self._binary(node.op, left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [self.build(arg) for arg in node.args]
            try:
                return self.functions[node.func.id](*args)
            except TypeError as exc:
                msg = f"{node.func.id}() cannot take these arguments ({exc})"
                raise MathError(msg) from None
        msg = f"{type(node).__name__} is not allowed"  # unreachable after check_expression
        raise Refused(msg)

    def _binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        sp = self.sp
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        if isinstance(op, ast.FloorDiv):
            return sp.floor(left / right)
        if isinstance(op, ast.Mod):
            return sp.Mod(left, right)
        return self._power(left, right)

    def _power(self, base: Any, exponent: Any) -> Any:
        """base**exponent, refused when the result would be too big to compute."""
        sp = self.sp
        if isinstance(exponent, sp.Rational):
            size = abs(int(exponent.p))
            if isinstance(base, sp.Rational):
                if base in (0, 1, -1):
                    return base**exponent
                if size.bit_length() > 64:
                    estimate = math.inf
                else:
                    estimate = size / int(exponent.q) * math.log10(max(abs(int(base.p)), int(base.q)))
                if estimate > MAX_DIGITS:
                    msg = f"{base}**{exponent} would have about {estimate:.3g} digits (limit {MAX_DIGITS})"
                    raise Refused(msg)
            elif size > MAX_SYMBOLIC_EXPONENT:
                msg = f"the exponent {exponent} is too large for this base (limit {MAX_SYMBOLIC_EXPONENT})"
                raise Refused(msg)
        return base**exponent

    def _factorial(self, n: Any) -> Any:
        sp = self.sp
        if isinstance(n, sp.Integer) and n > 0:
            if n > 10**6 or math.lgamma(int(n) + 1) / math.log(10) > MAX_DIGITS:
                msg = f"factorial({n}) would have more than {MAX_DIGITS} digits"
                raise Refused(msg)
        return sp.factorial(n)

    def _binomial(self, n: Any, k: Any) -> Any:
        sp = self.sp
        if isinstance(n, sp.Integer) and isinstance(k, sp.Integer) and 0 <= k <= n:
            if n > 10**6:
                msg = f"binomial({n}, {k}) is too large to compute (n is limited to 10**6)"
                raise Refused(msg)
            nn, kk = int(n), int(k)
            digits = (math.lgamma(nn + 1) - math.lgamma(kk + 1) - math.lgamma(nn - kk + 1)) / math.log(10)
            if digits > MAX_DIGITS:
                msg = f"binomial({n}, {k}) would have more than {MAX_DIGITS} digits"
                raise Refused(msg)
        return sp.binomial(n, k)

    def _root(self, value: Any, degree: Any) -> Any:
        return self._power(value, self.sp.Integer(1) / degree)

    def _rational(self, p: Any, q: Any = 1) -> Any:
        sp = self.sp
        if not isinstance(p, sp.Integer) or not isinstance(q, sp.Integer):
            msg = "Rational(p, q) takes two integers"
            raise MathError(msg)
        return sp.Rational(p, q)

    def _solve(self, expression: Any, *symbols: Any) -> Any:
        self._require_symbols("solve", symbols)
        return self.sp.solve(expression, *symbols)

    def _diff(self, expression: Any, *symbols: Any) -> Any:
        self._require_symbols("diff", symbols)
        return self.sp.diff(expression, *symbols)

    def _require_symbols(self, name: str, symbols: tuple[Any, ...]) -> None:
        if not all(isinstance(s, self.sp.Symbol) for s in symbols):
            msg = f"{name}(expression, x, ...) takes symbols after the expression ({', '.join(SYMBOLS)})"
            raise MathError(msg)

    def _numeric(self, value: Any, digits: Any = DECIMAL_DIGITS) -> Any:
        if not isinstance(digits, self.sp.Integer) or not 1 <= digits <= MAX_PRECISION:
            msg = f"N(expression, digits) takes 1 to {MAX_PRECISION} digits"
            raise Refused(msg)
        return self.sp.N(value, int(digits))

    def _isprime(self, n: Any) -> bool:
        if not isinstance(n, self.sp.Integer):
            msg = "isprime(n) takes an integer"
            raise MathError(msg)
        return bool(self.sp.isprime(n))

    def _check_size(self, value: Any) -> None:
        """Refuse any value holding an integer (numerator, denominator) of more than MAX_DIGITS digits."""
        sp = self.sp
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if not isinstance(item, sp.Basic):
                continue
            numbers = [item] if isinstance(item, sp.Rational) else item.atoms(sp.Rational)
            for number in numbers:
                bits = max(int(number.p).bit_length(), int(number.q).bit_length())
                if bits * math.log10(2) > MAX_DIGITS:
                    msg = f"a result has more than {MAX_DIGITS} digits"
                    raise Refused(msg)


def _format(value: Any, *, decimal: bool) -> str:
    """The result as text: exact (1/2, 2*sqrt(2)), or a decimal when the input used decimals."""
    import sympy as sp

    if isinstance(value, sp.Basic):
        if value.has(sp.zoo):
            msg = "division by zero"
            raise MathError(msg)
        if value.has(sp.nan):
            msg = "the result is undefined"
            raise MathError(msg)
        if decimal and isinstance(value, sp.Rational) and not isinstance(value, sp.Integer):
            quotient = Context(prec=DECIMAL_DIGITS).divide(Decimal(int(value.p)), Decimal(int(value.q)))
            text = format(quotient.normalize(), "f")
        else:
            text = str(value)
    else:
        text = str(value)
    if len(text) > MAX_OUTPUT_CHARS:
        msg = f"the result is {len(text)} characters long; the limit is {MAX_OUTPUT_CHARS}"
        raise Refused(msg)
    return text


def answer(expression: str) -> dict[str, Any]:
    """Evaluate one expression and return the worker's reply: `value`, `error`, `refused`."""
    try:
        return {"value": evaluate(expression), "error": None, "refused": False}
    except Refused as exc:
        return {"value": None, "error": str(exc), "refused": True}
    except MathError as exc:
        return {"value": None, "error": str(exc), "refused": False}
    except RecursionError:
        return {"value": None, "error": "the expression is too deeply nested for sympy", "refused": False}
    except MemoryError:
        return {"value": None, "error": "the calculation ran out of memory", "refused": False}
    except Exception as exc:  # sympy's own failures (NotImplementedError, PolynomialError, ...)
        message = str(exc)[:200]
        return {
            "value": None,
            "error": f"sympy could not compute it: {type(exc).__name__}: {message}",
            "refused": False,
        }
