"""Check that the lowest-versions environment holds each dependency at its lower bound.

`make test-lowest` installs the project with `uv pip install --resolution lowest-direct`; a
direct dependency can still land above its bound (another dependency asks for more, or the
bound names a yanked release). Then the bound is not what the tests ran on: this script names
each such dependency, with the version to raise its bound to, and exits 1. A dependency that is
not installed there (an extra outside `test`) is listed as untested.
Run it with the lowest environment's Python: `.venv-lowest/bin/python .ci/lowest_bounds.py`.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version


def lower_bound(requirement: Requirement) -> Version | None:
    """The version a `>=` or `==` specifier starts at, or None."""
    bounds = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    return max(bounds, default=None)


def main() -> int:
    """Print each bound the lowest environment does not hold; return 1 if there is one."""
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    raise_to, untested, checked = {}, set(), set()
    for line in lines:
        requirement = Requirement(line)
        checked.add(requirement.name)
        bound = lower_bound(requirement)
        try:
            installed = Version(version(requirement.name))
        except PackageNotFoundError:
            untested.add(requirement.name)
            continue
        if bound is None or Version(installed.public) != bound:
            raise_to[requirement.name] = (str(requirement.specifier), installed.public)
    for name, (specifier, installed) in sorted(raise_to.items()):
        print(f"{name}{specifier}: the lowest resolution installed {installed}; make that the lower bound")
    for name in sorted(untested):
        print(f"{name}: not installed by the lowest-versions step, so its lower bound is untested")
    if not raise_to:
        print(f"lowest versions: {len(checked - untested)} dependencies installed at their lower bounds")
    return 1 if raise_to else 0


if __name__ == "__main__":
    sys.exit(main())
