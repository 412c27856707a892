"""An evaluation killed with SIGKILL at random points resumes with no lost and no duplicated question.

A real process (the real runner and results file, a steady scripted policy) is killed several
times, each at a random moment after it records one more question; after each kill the results
file holds only whole records (at most a torn last line, which the next open cuts) and no
question twice; a last run finishes the rest.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

QUESTIONS = 40
KILLS = 5
ROOT = Path(__file__).resolve().parents[2]


def records(path: Path) -> tuple[list[dict], bytes]:
    """The whole records of a results file and its torn tail (b"" when none)."""
    if not path.exists():
        return [], b""
    data = path.read_bytes()
    whole, _, tail = data.rpartition(b"\n")
    lines = whole.split(b"\n") if whole else []
    return [json.loads(line) for line in lines], tail


def start(dataset: Path, results: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.eval_worker", str(dataset), str(results)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def test_random_sigkills_lose_and_duplicate_nothing(tmp_path):
    seed = random.randrange(2**32)
    chance = random.Random(seed)
    dataset = tmp_path / "toy.jsonl"
    dataset.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "input": f"What is {i}?", "target": str(i)}) + "\n"
            for i in range(QUESTIONS)
        )
    )
    results = tmp_path / "results.jsonl"
    partial_kills = 0
    for kill in range(KILLS):
        before = len(records(results)[0])
        worker = start(dataset, results)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
        deadline = time.monotonic() + 120
        while len(records(results)[0]) <= before and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the first question takes longest (imports, graph compile)
        time.sleep(chance.uniform(0.0, 0.5))  # then anywhere in the next questions or their writes
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        kept, torn = records(results)
        ids = [r["id"] for r in kept]
        assert len(ids) == len(set(ids)), f"seed {seed}, kill {kill}: a question was recorded twice"
        assert all(r["status"] == "ok" and r["correct"] for r in kept), f"seed {seed}: a bad record"
        partial_kills += 0 < len(ids) < QUESTIONS
        assert not torn or not torn.endswith(b"\n")
    assert partial_kills >= 2, f"seed {seed}: the kills should land mid-run"
    worker = start(dataset, results)
    _, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err
    kept, torn = records(results)
    assert torn == b"", "the finished file ends with a whole record"
    assert sorted(r["id"] for r in kept) == sorted(f"q{i}" for i in range(QUESTIONS)), f"seed {seed}"
