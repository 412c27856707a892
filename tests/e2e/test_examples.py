"""Every example runs offline on the embedded model."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str) -> list[str]:
    """Run examples/NAME as a script; return the lines it printed."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_solve_example_prints_steps_and_the_ledger():
    lines = run_example("solve.py", "What is 2 + 3?")
    steps, last = lines[:-1], lines[-1]
    assert 1 <= len(steps) <= 4 and all(line.startswith("m_t=") and " threshold=" in line for line in steps)
    assert "Step0:" not in lines[0]  # the default format: the model's own paragraphs, no headers
    assert last.startswith("answer:") and "'policy_step'" in last


def test_agent_example_standalone_says_its_agent_is_scripted_and_shows_murs_reply():
    lines = run_example("agent_with_mur_tool.py", "What is 2 + 3?")
    assert lines[0].startswith("agent model: RelayAgent (scripted stand-in, not a language model")
    assert lines[1].startswith("  [mur] Step0 m_t=")
    assert "agent -> mur_reasoner({'question': 'What is 2 + 3?'})" in lines
    reply = lines.index("agent -> mur_reasoner({'question': 'What is 2 + 3?'})") + 1
    assert lines[reply].startswith("mur_reasoner: Answer: ")
    assert lines[reply + 1].startswith("  Reasoning: ") and " tokens (" in lines[reply + 1]
    assert lines[-1] == f"agent: (relayed from mur_reasoner) {lines[reply].removeprefix('mur_reasoner: ')}"


def test_every_example_is_run_by_a_test():
    tested = "".join(test.read_text() for test in Path(__file__).parent.glob("test_*.py"))
    assert all(example.name in tested for example in EXAMPLES.glob("*.py"))


def test_math_assistant_runs_the_calculator_calls_the_model_writes():
    import ast

    from mur_graph.tools import calculate

    lines = run_example("math_assistant.py")
    printed_text = "\n".join(lines)
    assert lines[0].startswith("m_t=") and "Step0:" in lines[0]
    assert lines[-1].startswith("answer:")
    printed = [line.split("calculator: ", 1)[1] for line in lines if line.startswith("  calculator: ")]
    # With this question and seed SmolLM2 writes <<17+25>> in its first step: the call was run
    assert printed, printed_text
    assert f"| calculator calls: {len(printed)} |" in lines[-1]
    for call in printed:
        expression, shown = (ast.literal_eval(part) for part in call.split(" -> "))
        assert shown == calculate(expression).text  # the result written into the step is the calculator's
        if not shown.startswith("error: "):  # an error is written into the step cut to 80 characters
            assert f"<<{expression}={shown}>>" in printed_text
