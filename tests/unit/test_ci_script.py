"""`.ci/run` fails when any step of the README's test command fails, and runs exactly that command.

`set -e` does not stop a script at a failure inside an `a && b && c` list, so a failed `make test`
once went on to the leftover-files check and CI exited 0. These tests run the real script with
stand-ins for `make` and `apt-get` on PATH.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["setup", "setup-server", "setup-vllm", "test", "test-lowest"]


def readme_test_command() -> str:
    commands = re.findall(r"make setup && make setup-server && [^\n`]*", (ROOT / "README.md").read_text())
    assert commands, "README.md names the test command"
    return commands[0].strip()


def test_ci_runs_exactly_the_readmes_test_command():
    assert readme_test_command() == " && ".join(f"make {t}" for t in TARGETS)
    assert f"\n{readme_test_command()} ||" in (ROOT / ".ci" / "run").read_text()


@pytest.fixture
def ci(tmp_path):
    """A git checkout holding only `.ci/run`, and a PATH whose `make` fails at $FAIL_AT."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("make.log\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    who = ["-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    subprocess.run(["git", "-C", str(repo), *who, "commit", "-q", "-m", "ci"], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text('#!/bin/sh\necho "$1" >> make.log\n[ "$1" != "$FAIL_AT" ]\n')
    (bin_dir / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)

    def run(fail_at: str) -> tuple[int, list[str]]:
        env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAIL_AT": fail_at}
        done = subprocess.run(
            ["bash", ".ci/run"], cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
        log = repo / "make.log"
        ran = log.read_text().split() if log.exists() else []
        log.unlink(missing_ok=True)
        return done.returncode, ran

    return run


@pytest.mark.parametrize("failing", TARGETS)
def test_a_failing_step_fails_ci_and_stops_it(ci, failing):
    status, ran = ci(failing)
    assert status != 0
    assert ran == TARGETS[: TARGETS.index(failing) + 1]


def test_ci_passes_when_every_step_passes(ci):
    assert ci("nothing") == (0, TARGETS)
