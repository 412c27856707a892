"""How many threads a local backend computes with: the cores this process may use, or a setting.

`os.cpu_count()` counts the machine's cores, not this process's: a CPU affinity mask (`taskset`,
a batch scheduler) or a cgroup CPU quota (`docker run --cpus`, Kubernetes limits) gives a process
fewer. More compute threads than usable cores is the costly mistake: llama.cpp's threads meet at
a barrier after every layer, so a descheduled one stalls the others (docs/models.md, Threads).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["THREADS_ENV", "cgroup_cpu_limit", "default_threads", "usable_cores"]

THREADS_ENV = "MUR_GRAPH_THREADS"
"""Environment variable that sets the thread count of the local backends (e.g. 1 on a busy machine)."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _quota_v2(folder: Path) -> float | None:
    """Cores allowed by `cpu.max` ("quota period", or "max period" for none) in `folder`."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(folder: Path) -> float | None:
    """Cores allowed by `cpu.cfs_quota_us` / `cpu.cfs_period_us` in `folder` (-1: none)."""
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _folders(root: Path, path: str) -> list[Path]:
    """`root/path` and each folder above it up to `root` (a limit anywhere above applies too)."""
    folder = root / path.strip("/")
    return [folder, *[p for p in folder.parents if p == root or root in p.parents]]


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """Cores this process's cgroup CPU quota allows (e.g. 1.5), or None when there is none.

    Reads `/proc/self/cgroup` for the process's cgroup, then the quota of that cgroup and of each
    one above it (the smallest counts): cgroup v2's `cpu.max`, or v1's `cpu.cfs_quota_us` under
    the `cpu` (or `cpu,cpuacct`) hierarchy. In a container the cgroup path is often `/`, its own
    root, which is then the folder read. Unreadable files count as no limit.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2's unified hierarchy: "0::/path"
            limits += [q for f in _folders(root, path) if (q := _quota_v2(f)) is not None]
        elif "cpu" in controllers.split(","):
            for mount in (root / "cpu", root / "cpu,cpuacct", root / controllers):
                limits += [q for f in _folders(mount, path) if (q := _quota_v1(f)) is not None]
    return min(limits, default=None)


def usable_cores(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup quota (rounded up), ≥ 1."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS, Windows: no affinity API in `os`
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root, proc_cgroup)
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


def default_threads(environ: Mapping[str, str] = os.environ) -> int:
    """`$MUR_GRAPH_THREADS` when set (a whole number ≥ 1), else `usable_cores()`.

    Raises:
        ValueError: the variable is set to something other than a whole number ≥ 1.
    """
    value = environ.get(THREADS_ENV, "").strip()
    if not value:
        return usable_cores()
    if not value.isdigit() or int(value) < 1:
        msg = f"{THREADS_ENV}={value!r}: set it to a whole number of threads >= 1, or unset it"
        raise ValueError(msg)
    return int(value)
