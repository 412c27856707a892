"""The calculator's worker process: `python -I sandbox.py`, one JSON request per line on stdin.

Run only as a script (by `mur_graph.tools.calculator`), never imported by the package. It loads
`engine.py` by path (no `mur_graph` import: it starts in about a second), limits its own address
space, makes sympy import its lazily loaded modules, then installs an audit hook (PEP 578) and
answers `{"expression": ...}` with `{"value", "error", "refused"}`. The parent kills it when a
calculation runs past the time limit.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

WARM_UP = (
    "1/3 + 1/6",
    "expand((x+1)**2)",
    "factor(x**2-1)",
    "solve(x**2-4, x)",
    "simplify(sin(x)**2+cos(x)**2)",
    "N(pi, 20)",
    "diff(x**3, x)",
    "factorial(10) + binomial(10, 3) + gcd(12, 18) + isprime(7)",
)
"""Calls that make sympy import its lazily loaded modules before the first real request is timed."""

MEMORY_LIMIT_BYTES = 2 * 1024**3
"""Address-space limit of the worker (a calculation that needs more fails with MemoryError)."""

BLOCKED_EVENTS = (
    "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty", "os.kill",
    "os.remove", "os.unlink", "os.rename", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod",
    "os.chown", "os.link", "os.symlink", "os.putenv", "os.unsetenv", "shutil.", "subprocess.",
    "socket.", "ctypes.", "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "pty.",
    "builtins.input", "sqlite3.",
)  # fmt: skip
"""Audit events refused while serving: processes, network, native code, changing files."""

violations: list[str] = []
"""Audit events refused while serving the current request (its reply reports them)."""


def audit(event: str, args: tuple[Any, ...]) -> None:
    """Refuse process, network, native-code and file-changing events (PEP 578 audit hook).

    Files may only be opened for reading inside the Python installation (sympy's lazy imports).
    sympy compiles a few constant strings of its own (`from sympy import *`, dataclass methods),
    so `exec` and `compile` events cannot be refused; the engine never passes them input text.
    """
    if event.startswith(BLOCKED_EVENTS) or (event == "open" and not _reads_installed_file(args)):
        violations.append(event)
        msg = f"the calculator sandbox does not allow {event}"
        raise PermissionError(msg)


def _reads_installed_file(args: tuple[Any, ...]) -> bool:
    path, mode, flags = (*args, None, None, None)[:3]
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return False
    if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        return False
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return True  # an already open descriptor
    full = os.path.abspath(path)
    return any(
        full.startswith(os.path.join(root, "")) for root in {sys.prefix, sys.base_prefix, sys.exec_prefix}
    )


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on Unix: the time limit still holds
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _load_engine() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mur_calculator_engine", Path(__file__).with_name("engine.py")
    )
    if spec is None or spec.loader is None:
        msg = "cannot load the calculator engine"
        raise ImportError(msg)
    engine = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = engine
    spec.loader.exec_module(engine)
    return engine


def serve() -> None:
    """Answer requests on stdin, one JSON line each, until stdin closes."""
    _limit_memory()
    engine = _load_engine()
    for expression in WARM_UP:
        engine.answer(expression)
    sys.addaudithook(audit)
    replies, sys.stdout = sys.stdout, sys.stderr  # anything sympy prints cannot corrupt a reply
    print(json.dumps({"ready": True}), file=replies, flush=True)
    for line in sys.stdin:
        try:
            expression = json.loads(line)["expression"]
        except (ValueError, KeyError, TypeError):
            expression = ""
        reply = engine.answer(expression if isinstance(expression, str) else "")
        if violations:
            blocked = ", ".join(sorted(set(violations)))
            reply = {"value": None, "error": f"blocked by the calculator sandbox: {blocked}", "refused": True}
            violations.clear()
        print(json.dumps(reply), file=replies, flush=True)


if __name__ == "__main__":
    serve()
