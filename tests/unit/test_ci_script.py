"""`.ci/run` fails when any step of the README's test command fails, and runs exactly that command.

`set -e` does not stop a script at a failure inside an `a && b && c` list, so a failed `make test`
once went on to the leftover-files check and CI exited 0. These tests run the real script with
stand-ins for `make`, `apt-get` and `df` on PATH.
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
    """A git checkout holding only `.ci/run`, and a PATH whose `make` fails at $FAIL_AT.

    `df` reports $FREE_KB free (plenty unless a test says otherwise), so the tests do not depend on
    the disk they run on.
    """
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
    (bin_dir / "df").write_text(
        '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\n'
        'echo "/dev/vda 264241152 52428800 ${FREE_KB:-104857600} 34% /"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)

    def run(fail_at: str, free_kb: int = 100 * 2**20) -> tuple[int, list[str], str]:
        env = os.environ | {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAIL_AT": fail_at,
            "FREE_KB": str(free_kb),
        }
        done = subprocess.run(
            ["bash", ".ci/run"], cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
        log = repo / "make.log"
        ran = log.read_text().split() if log.exists() else []
        log.unlink(missing_ok=True)
        return done.returncode, ran, done.stderr.decode()

    return run


@pytest.mark.parametrize("failing", TARGETS)
def test_a_failing_step_fails_ci_and_stops_it(ci, failing):
    status, ran, _ = ci(failing)
    assert status != 0
    assert ran == TARGETS[: TARGETS.index(failing) + 1]


def test_ci_passes_when_every_step_passes(ci):
    assert ci("nothing")[:2] == (0, TARGETS)


def test_a_disk_too_full_for_the_installs_stops_ci_before_them_and_says_so(ci):
    """A full disk once failed CI half-way through installing torch, as a pip OSError."""
    status, ran, stderr = ci("nothing", free_kb=3 * 2**20)
    assert status == 1
    assert ran == []
    assert "CI: 3 GiB free on /; a run needs about 12 GiB: free disk space" in stderr
    assert ci("nothing", free_kb=12 * 2**20)[:2] == (0, TARGETS)
