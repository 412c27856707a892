"""Runs checkpointed on a real PostgreSQL survive SIGKILL: a new process resumes them by thread id.

A throw-away cluster (tests/postgres_cluster.py) holds the checkpoints, written through
`mur_graph.postgres.postgres_checkpointer` with `durability="sync"`. Each run is started in one
process, killed with SIGKILL where it waits (for a review, or inside a model call), and finished
by another process whose scripted model holds only the calls left: every step runs exactly
once, and the ledger equals that of the same run never interrupted. Checkpoints are read back
with `LANGGRAPH_STRICT_MSGPACK=true`. The pool's settings are what keep a run going when the
server drops its connection during a long model call; one plain connection loses the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mur_graph import create_mur_graph
from mur_graph.postgres import postgres_checkpointer
from tests.e2e.postgres_worker import CONFIG
from tests.fakes import ScriptedChatModel
from tests.postgres_cluster import cluster
from tests.unit.test_graph_scripted import mur_script

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' (the postgres extra)")

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


class DroppingModel(ScriptedChatModel):
    """The scripted model; during its second call the server drops every other connection.

    What a long model call meets: an idle timeout, a proxy or a restart closes the connection the
    checkpointer holds while the model generates.
    """

    url: str

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        if len(self.calls) == 1:
            with psycopg.connect(self.url, autocommit=True) as admin:
                others = admin.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchall()
                assert others, "the checkpointer holds no connection to drop"
                for (pid,) in others:  # each gone before the call goes on (5 s at most)
                    admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        return super()._generate(messages, stop, run_manager, **kwargs)


def run_while_dropping(url: str, saver: Any, thread: str) -> dict:
    model = DroppingModel(script=mur_script(), url=url)
    graph = create_mur_graph(model, config=CONFIG, checkpointer=saver)
    config = {"configurable": {"thread_id": thread}}
    return graph.invoke({"question": "What is 17 + 25?"}, config, durability="sync")


def test_the_pooled_checkpointer_outlives_a_connection_dropped_during_a_model_call(postgres):
    with postgres_checkpointer(postgres) as saver:
        state = run_while_dropping(postgres, saver, "dropped-pool")
    assert [step["index"] for step in state["steps"]] == [0, 1, 2]
    assert state["answer"] == "42" and state["ledger"] == LEDGER


def test_one_plain_connection_loses_the_run_when_it_is_dropped(postgres):
    from langgraph.checkpoint.postgres import PostgresSaver

    # What the pool's settings prevent: PostgresSaver.from_conn_string holds one connection.
    with PostgresSaver.from_conn_string(postgres) as saver:
        saver.setup()
        with pytest.raises(psycopg.OperationalError):
            run_while_dropping(postgres, saver, "dropped-plain")
