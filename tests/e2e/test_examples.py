"""Every example runs offline on the embedded model."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_solve_example_prints_steps_and_the_ledger():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "solve.py"), "What is 2 + 3?"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("m_t=") and "Step0:" in lines[0]
    assert lines[-1].startswith("answer:") and "'policy_step'" in lines[-1]
