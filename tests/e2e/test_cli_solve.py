"""`mur-graph solve` on the embedded model, as a user runs it."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.real_model


def test_solve_json_prints_a_trace_with_every_decision():
    command = [sys.executable, "-m", "mur_graph.cli", "solve", "What is 17 + 25?", "--json", "--seed", "0"]
    command += ["--max-steps", "2", "--max-step-tokens", "16", "--fallback-tokens", "8", "--candidates", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["question"] == "What is 17 + 25?"
    assert 1 <= trace["n_steps"] <= 2
    for step in trace["steps"]:
        for key in ("uncertainty", "momentum_before", "threshold", "scaled", "tokens"):
            assert key in step
    assert trace["totals"]["total"] == sum(trace["ledger"].values())
    assert trace["settings"]["max_step_tokens"] == 16
    assert "Step0" in done.stderr and "token ledger" in done.stderr


@pytest.mark.parametrize("method", ["critic", "phi"])
def test_solve_runs_every_method(method):
    command = [sys.executable, "-m", "mur_graph.cli", "solve", "What is 2 + 3?", "--json", "--seed", "1"]
    command += ["--method", method, "--mode", "per_step", "--max-steps", "1", "--max-step-tokens", "12"]
    command += ["--fallback-tokens", "4", "--candidates", "2", "--critique-tokens", "12"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["settings"]["method"] == method and trace["settings"]["gamma"] == 0.9
    assert trace["steps"][0]["scaled"]
    assert trace["steps"][0]["method"] == {"critic": "critic_refine", "phi": "phi_foresight"}[method]
