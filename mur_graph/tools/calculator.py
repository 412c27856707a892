"""A safe calculator: exact arithmetic and algebra with sympy, bounded in size and time.

`calculate(expression)` never evaluates the text: it is parsed with `ast.parse` and checked
against allow-lists in this process (`engine.check_expression`); what passes is computed, node
by node, by allow-listed sympy functions in a separate worker process (`sandbox.py` run with
`python -I`) that has an address-space limit and an audit hook refusing process, network and
file-writing events, and that is killed when a calculation runs past its time limit. The worker
is started on the first call and reused (a calculation costs milliseconds, not a process start).

`calculator` is the same function as a LangChain tool, for agents.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.tools import tool

from mur_graph.tools.engine import Refused, check_expression

TIMEOUT_S = 5.0
"""Default wall-time limit of one calculation (the worker is killed and restarted past it)."""
STARTUP_TIMEOUT_S = 120.0
"""How long the worker may take to start (import sympy and warm up) on a slow machine."""
SANDBOX = Path(__file__).with_name("sandbox.py")


@dataclass(frozen=True)
class CalculatorResult:
    """The outcome of one calculation: a value, or an error saying why there is none."""

    expression: str
    value: str | None
    """The result as text (`1/2`, `2*sqrt(2)`, `[-2, 2]`), or None."""
    error: str | None = None
    """Why there is no value: a refusal, a math error (division by zero) or the time limit."""
    refused: bool = False
    """True when the input broke an allow-list or a bound and the costly part never ran."""

    @property
    def ok(self) -> bool:
        """Whether there is a value."""
        return self.value is not None

    @property
    def text(self) -> str:
        """The value, or `error: <why>`."""
        return self.value if self.value is not None else f"error: {self.error}"


def calculate(expression: str, *, timeout: float = TIMEOUT_S) -> CalculatorResult:
    """Compute `expression` exactly with sympy; refuse what is unsafe or too big, never raise.

    Allowed: numbers (decimals are exact: 0.1 is 1/10), + - * / // % ** (or ^), parentheses, the
    functions and constants listed in `engine.FUNCTIONS` / `engine.CONSTANTS`, and the symbols
    x y z n a b c k m t for algebra (`expand((x+1)**2)`, `solve(x**2-4, x)`). Everything else
    (attributes, strings, underscores, lambdas, comprehensions...) is refused before it runs.
    """
    if not isinstance(expression, str):
        return CalculatorResult(str(expression), None, "the expression must be text", refused=True)
    try:
        check_expression(expression)
    except Refused as exc:
        return CalculatorResult(expression, None, str(exc), refused=True)
    reply = _WORKER.ask(expression, timeout)
    return CalculatorResult(expression, reply.get("value"), reply.get("error"), bool(reply.get("refused")))


def start_worker() -> None:
    """Start the calculation process now (about a second), so that no later call waits for it.

    Optional: the first calculation starts it otherwise, as does the call after a timeout.

    Raises:
        RuntimeError: the process did not start.
    """
    _WORKER.start()


@tool("calculator")
def calculator(expression: str) -> str:
    """Compute a math expression exactly: arithmetic, fractions, powers, sqrt, gcd, factorial, log,
    and algebra on x, y, z, n (expand, factor, simplify, solve, diff). Example: solve(x**2-4, x).

    Returns the value, or "error: ..." saying why it was refused.
    """  # noqa: D205 - the docstring is the tool's description for the model
    return calculate(expression).text


class _Worker:
    """The calculation process: started lazily, one request at a time, killed when too slow."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._running()

    def ask(self, expression: str, timeout: float) -> dict[str, Any]:
        with self._lock:
            try:
                process = self._running()
            except (OSError, RuntimeError) as exc:
                return _failed(f"the calculator could not start: {exc}")
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps({"expression": expression}) + "\n")
                process.stdin.flush()
            except OSError:
                self.stop()
                return _failed("the calculator process stopped; try again")
            line = _read_line(process, timeout)
            if line is None:
                self.stop()
                return _failed(f"the calculation took longer than {timeout:g} s")
            if not line:
                self.stop()
                return _failed("the calculation crashed its process")
            try:
                reply: dict[str, Any] = json.loads(line)
            except ValueError:
                self.stop()
                return _failed("the calculator process answered garbage")
            return reply

    def _running(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        process = subprocess.Popen(
            [sys.executable, "-I", str(SANDBOX)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._process = process
        if _read_line(process, STARTUP_TIMEOUT_S) != '{"ready": true}\n':
            self.stop()
            msg = f"the worker did not report ready within {STARTUP_TIMEOUT_S:g} s"
            raise RuntimeError(msg)
        return process

    def stop(self) -> None:
        """Kill the worker (a later call starts a fresh one)."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def _failed(error: str) -> dict[str, Any]:
    """The worker's reply shape for a calculation that failed in the worker's plumbing, not its input."""
    return {"value": None, "error": error, "refused": False}


def _read_line(process: subprocess.Popen[str], timeout: float) -> str | None:
    """The worker's next line; "" when it died, None when none came within `timeout` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            return process.stdout.readline()


_WORKER = _Worker()
atexit.register(_WORKER.stop)
