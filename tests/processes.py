"""Server processes for the tests: a free local port, waiting until one answers, stopping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    process: subprocess.Popen[bytes], url: str, log: Path, name: str, timeout: float = 180
) -> None:
    """Wait until GET `url` answers 200; fail with the log's tail if `process` exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer {url} within {timeout:g} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's whole process group: SIGTERM, then SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
