"""A throw-away PostgreSQL cluster: Debian's `initdb` + `pg_ctl` in a temporary folder, on a free port.

As root the server runs as `nobody` (PostgreSQL refuses to run as root). Without the server
binaries the tests that need them skip, saying what to install; under CI (`CI=true`) they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port

INSTALL = "apt-get install postgresql (Debian's server binaries: initdb, pg_ctl)"


def server_binaries() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: Debian's newest /usr/lib/postgresql/<major>/bin, or PATH's."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def require_server() -> Path:
    """The server binaries' folder; skip (fail under CI) when they are absent."""
    binaries = server_binaries()
    if binaries is None:
        reason = f"no PostgreSQL server binaries: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binaries


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster that trusts local TCP connections; yield its URL; stop and delete it."""
    binaries = require_server()
    folder = Path(tempfile.mkdtemp(prefix="mur-pg-"))
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:  # initdb and postgres refuse root: run them as nobody
        shutil.chown(folder, "nobody", "nogroup")
        as_user = {"user": "nobody", "group": "nogroup", "extra_groups": []}
    data, port = folder / "data", free_port()

    def run(*command: str) -> None:
        subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=120, **as_user)

    try:
        run(
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder}"
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"{exc.cmd[0]} failed ({exc.returncode}): {exc.stderr.decode(errors='replace')[-2000:]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
