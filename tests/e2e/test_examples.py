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


def test_math_assistant_runs_the_calculator_calls_the_model_writes():
    import ast

    from mur_graph.tools import calculate

    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "math_assistant.py")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("m_t=") and "Step0:" in lines[0]
    assert lines[-1].startswith("answer:")
    printed = [line.split("calculator: ", 1)[1] for line in lines if line.startswith("  calculator: ")]
    # With this question and seed SmolLM2 writes <<17+25>> in its first step: the call was run
    assert printed, done.stdout
    assert f"| calculator calls: {len(printed)} |" in lines[-1]
    for call in printed:
        expression, shown = (ast.literal_eval(part) for part in call.split(" -> "))
        assert shown == calculate(expression).text  # the result written into the step is the calculator's
        if not shown.startswith("error: "):  # an error is written into the step cut to 80 characters
            assert f"<<{expression}={shown}>>" in done.stdout
