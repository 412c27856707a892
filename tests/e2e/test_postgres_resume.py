"""Runs checkpointed on a real PostgreSQL survive SIGKILL: a new process resumes them by thread id.

A throw-away cluster (tests/postgres_cluster.py) holds the checkpoints, written through
`mur_graph.postgres.postgres_checkpointer`. Each run is started in one process, killed with
SIGKILL where it waits (for a review, or inside a model call), and finished by another process
whose scripted model holds only the calls left: every step runs exactly once, and the ledger
equals that of the same run never interrupted. Checkpoints are read back with
`LANGGRAPH_STRICT_MSGPACK=true`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_cluster import cluster

ROOT = Path(__file__).resolve().parents[2]
LEDGER = {
    "policy_step": 5,
    "draft_discarded": 2,
    "candidates": 5,
    "revision": 0,
    "rollouts": 0,
    "fallback": 0,
    "critic": 4,
}
"""The ledger of `mur_script`'s run in one go (tests/unit/test_serve_openai.py)."""


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with cluster() as url:
        yield url


def worker(url: str, thread: str, phase: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANGGRAPH_STRICT_MSGPACK": "true"}
    command = [sys.executable, "-m", "tests.e2e.postgres_worker", url, thread, phase]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def first_line(process: subprocess.Popen[str]) -> dict:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=60)
        pytest.fail(
            f"the worker exited ({process.returncode}) without a line:\n{process.stderr.read()[-3000:]}"
        )
    return json.loads(line)


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def finish(url: str, thread: str, phase: str) -> dict:
    process = worker(url, thread, phase)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out)


@pytest.mark.parametrize(
    ("start", "resume", "first"),
    [("review-start", "review-resume", "paused"), ("plain-start", "plain-resume", "generating")],
    ids=["paused-for-review", "killed-inside-a-model-call"],
)
def test_a_run_killed_with_sigkill_is_resumed_by_a_new_process_with_every_step_once(
    postgres, start, resume, first
):
    thread = f"{start}-1"
    process = worker(postgres, thread, start)
    try:
        line = first_line(process)
    finally:
        kill(process)
    assert set(line) == {first}
    if first == "paused":
        assert line["paused"]["step"] == 2 and line["paused"]["actions"]

    done = finish(postgres, thread, resume)
    state = done["state"]
    assert done["remaining"] == 0  # the new process made exactly the calls left
    assert [step["index"] for step in state["steps"]] == [0, 1, 2]
    assert [step["text"] for step in state["steps"]] == [
        "Step0: Let s be the sum.",
        "Step1: 17 + 25 = 42.",
        "Step2: The answer is 42.",
    ]
    assert state["steps"][2]["scaled"] and state["answer"] == "42"
    assert state["ledger"] == LEDGER  # nothing booked twice
