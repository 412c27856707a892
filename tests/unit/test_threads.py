"""The local backends' thread count: the cores this process may use (affinity, cgroup quota), or a setting."""

import os
from pathlib import Path

import pytest

from mur_graph.models import THREADS_ENV, default_threads, threads, usable_cores
from mur_graph.models.threads import cgroup_cpu_limit


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def proc(tmp_path):
    return tmp_path / "proc_self_cgroup"


def test_cgroup_v2_quota_of_the_process_cgroup_and_the_smallest_above_it(tmp_path, proc):
    root = tmp_path / "cgroup"
    _write(proc, "0::/user.slice/job\n")
    _write(root / "user.slice" / "job" / "cpu.max", "max 100000\n")  # no limit of its own
    assert cgroup_cpu_limit(root, proc) is None
    _write(root / "user.slice" / "cpu.max", "250000 100000\n")  # its parent's 2.5 cores count
    assert cgroup_cpu_limit(root, proc) == 2.5
    _write(root / "user.slice" / "job" / "cpu.max", "150000 100000\n")
    assert cgroup_cpu_limit(root, proc) == 1.5


def test_a_container_whose_cgroup_is_its_root(tmp_path, proc):
    root = tmp_path / "cgroup"
    _write(proc, "0::/\n")
    _write(root / "cpu.max", "400000 100000\n")
    assert cgroup_cpu_limit(root, proc) == 4.0


@pytest.mark.parametrize("mount", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_cfs_quota(tmp_path, proc, mount):
    root = tmp_path / "cgroup"
    _write(proc, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n")
    folder = root / mount / "docker" / "abc"
    _write(folder / "cpu.cfs_period_us", "100000\n")
    _write(folder / "cpu.cfs_quota_us", "-1\n")  # v1's "no limit"
    assert cgroup_cpu_limit(root, proc) is None
    _write(folder / "cpu.cfs_quota_us", "50000\n")
    assert cgroup_cpu_limit(root, proc) == 0.5


def test_no_cgroup_files_or_unreadable_ones_mean_no_limit(tmp_path, proc):
    root = tmp_path / "cgroup"
    assert cgroup_cpu_limit(root, proc) is None  # no /proc/self/cgroup (macOS)
    _write(proc, "0::/job\n")
    _write(root / "job" / "cpu.max", "garbage\n")
    assert cgroup_cpu_limit(root, proc) is None


def test_usable_cores_is_the_affinity_capped_by_the_quota_rounded_up(tmp_path, proc, monkeypatch):
    root = tmp_path / "cgroup"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7}, raising=False)
    assert usable_cores(root, proc) == 8
    _write(proc, "0::/\n")
    _write(root / "cpu.max", "150000 100000\n")
    assert usable_cores(root, proc) == 2
    _write(root / "cpu.max", "10000 100000\n")  # a tenth of a core: still one thread
    assert usable_cores(root, proc) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    _write(root / "cpu.max", "max 100000\n")
    assert usable_cores(root, proc) == 1


def test_on_this_machine_the_usable_cores_are_at_most_the_affinity():
    assert 1 <= usable_cores() <= len(os.sched_getaffinity(0))


def test_the_environment_variable_overrides_and_a_bad_value_is_refused(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 6)
    assert default_threads({}) == 6
    assert default_threads({THREADS_ENV: " "}) == 6
    assert default_threads({THREADS_ENV: "3"}) == 3
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match=rf"^{THREADS_ENV}='{bad}': set it to a whole number"):
            default_threads({THREADS_ENV: bad})


def test_the_tests_run_with_one_thread():
    # tests/conftest.py pins 1 (the Makefile's TEST_ENV too): tests share a loaded 2-core machine
    assert os.environ[THREADS_ENV] == "1" and default_threads() == 1
