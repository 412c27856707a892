"""CPU seconds of `import mur_graph` in a fresh interpreter, for one or more Python environments.

Each run starts a new interpreter and times the import with `time.process_time()`
(`tests/import_weight.py`, the code the tests use to check which modules the import loads); the
environments' runs are interleaved, and the load average is read before and after, since on a
shared machine the figure moves with the load. This replaces a timed assertion in
`tests/e2e/test_wheel_install.py`, which failed CI at 1.15 s beside three busy processes: the
test checks what the import loads, this script how long it takes.

    PYTHONPATH=. python benchmarks/perf/import_time.py --python dev=.venv/bin/python \
        --python wheel=/tmp/v/bin/python --runs 5

(A fresh `[llama]` venv from the wheel: `pip wheel --no-deps -w /tmp/dist . && python -m venv
/tmp/v && /tmp/v/bin/pip install "$(ls /tmp/dist/mur_graph-*.whl)[llama]"`.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import interleaved, median, table, write
from tests.import_weight import import_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--python",
        action="append",
        metavar="LABEL=PATH",
        help="an environment's interpreter, e.g. wheel=/tmp/v/bin/python (default: this one)",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--name", default="import_time", help="results file stem under results/performance")
    args = parser.parse_args(argv)
    pythons = dict(_labelled(p) for p in args.python or [f"this={sys.executable}"])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    reports: dict[str, list[dict]] = {label: [] for label in pythons}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as cwd:  # outside the repository: the environment's own files
        arms = {label: _run_one(python, Path(cwd), env, reports[label]) for label, python in pythons.items()}
        interleaved(arms, args.runs)
    loads.append(os.getloadavg()[0])
    rows = []
    for label, runs in reports.items():
        cpu = [r["cpu_s"] for r in runs]
        heavy = sorted({m for r in runs for m in r["heavy"]})
        rows.append(
            {
                "environment": label,
                "runs": len(runs),
                "CPU s min": min(cpu),
                "CPU s median": median(cpu),
                "CPU s max": max(cpu),
                "backend modules loaded": ", ".join(heavy) or "none",
            }
        )
    columns = list(rows[0])
    markdown = (
        table(rows, columns) + f"\nLoad average (1 min) before and after: {loads[0]:.1f}, {loads[1]:.1f}.\n"
    )
    payload = {"pythons": pythons, "runs": reports, "load_average": loads, "rows": rows}
    write(args.name, payload, markdown)
    return 0


def _run_one(python: str, cwd: Path, env: dict[str, str], into: list[dict]) -> Callable[[], None]:
    """An arm: one fresh interpreter's import report, appended to `into`."""
    return lambda: into.append(import_report(python, cwd, env))


def _labelled(text: str) -> tuple[str, str]:
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        msg = f"--python takes LABEL=PATH, e.g. wheel=/tmp/v/bin/python; got {text!r}"
        raise SystemExit(msg)
    if not Path(path).exists():
        msg = f"--python {label}: no interpreter at {path}"
        raise SystemExit(msg)
    return label, path


if __name__ == "__main__":
    sys.exit(main())
