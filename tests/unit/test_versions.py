"""Version bounds and CI settings that keep the version traps closed (docs/reliability.md, Versions)."""

import os
import tomllib
from pathlib import Path

import pytest
from langgraph.checkpoint.serde import _msgpack
from packaging.requirements import Requirement
from packaging.version import Version

PROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
REQUIREMENTS = [
    *PROJECT["dependencies"],
    *(line for extra in PROJECT["optional-dependencies"].values() for line in extra),
]


@pytest.mark.parametrize("line", REQUIREMENTS)
def test_each_dependency_has_a_lower_bound_and_an_upper_bound_at_a_major_version(line):
    specifiers = {s.operator: Version(s.version) for s in Requirement(line).specifier}
    if "==" in specifiers:  # a pin is both
        return
    assert ">=" in specifiers, f"{line}: give the lowest version the tests ran on (make test-lowest)"
    upper = specifiers.get("<")
    assert upper is not None, f"{line}: add an upper bound below the next major version"
    # <2 for 1.x, <1 for 0.x: the next major, never a minor inside one; a 0.x project whose
    # minors break its API (llama-cpp-python's low-level calls) may stop at the next minor
    at_major = upper.release in ((upper.major,), (upper.major, 0))
    at_next_zero_minor = upper.major == 0 and upper.release in ((0, upper.minor), (0, upper.minor, 0))
    assert at_major or at_next_zero_minor, f"{line}: bound at a major version (or a 0.x minor)"
    assert upper > specifiers[">="], line


def test_ci_reads_checkpoints_back_with_strict_msgpack():
    if os.environ.get("CI") != "true":
        pytest.skip("CI only (CI=true); `make test` sets LANGGRAPH_STRICT_MSGPACK=true too")
    assert _msgpack.STRICT_MSGPACK_ENABLED, "export LANGGRAPH_STRICT_MSGPACK=true (.ci/run does)"
