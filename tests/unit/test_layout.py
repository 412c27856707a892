"""The package's layering: the command line (`mur_graph/cli/`) sits on the library, never under it."""

import ast
import importlib
from pathlib import Path

import pytest

import mur_graph

PACKAGE = Path(mur_graph.__file__).parent
CLI = PACKAGE / "cli"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, lazy imports in functions too, made absolute."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def _imports_cli(path: Path) -> list[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return _cli_modules(_imported_modules(path.read_text(encoding="utf-8"), package))


def _cli_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "mur_graph.cli" or m.startswith("mur_graph.cli."))


def test_no_library_module_imports_the_command_line():
    library = [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents]
    offenders = {str(p.relative_to(PACKAGE)): _imports_cli(p) for p in library if _imports_cli(p)}
    assert len(library) > 50  # the walk saw the library
    assert offenders == {}, "the library must not import mur_graph.cli; move what it needs to the library"


def test_the_import_walk_sees_absolute_relative_and_lazy_imports():
    # the same walk finds the CLI's own imports of itself, so an offender would not go unseen
    assert "mur_graph.cli.app" in _imports_cli(CLI / "__init__.py")
    assert "mur_graph.cli.eval" in _imports_cli(CLI / "app.py")  # imported inside build_parser
    lazy = "import os\ndef f():\n    from ..cli import options\n    import mur_graph.cli.viz\n"
    assert _cli_modules(_imported_modules(lazy, "mur_graph.eval")) == [
        "mur_graph.cli",
        "mur_graph.cli.options",
        "mur_graph.cli.viz",
    ]
    assert _cli_modules(_imported_modules("from mur_graph import cli, config\n", "mur_graph")) == [
        "mur_graph.cli"
    ]
    assert _cli_modules(_imported_modules("from mur_graph import client, config\n", "mur_graph")) == []


def _foreign_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of each `from mur_graph... import name` in `path` outside its own package."""
    own = _module_name(path).split(".")[1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            parts = node.module.split(".")
            if parts[0] == "mur_graph" and (len(parts) == 1 or parts[1] != own):
                found.extend((node.module, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["cli", "eval"])
def test_the_cli_and_eval_use_only_exported_names_of_the_library(package):
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for module, name in _foreign_imports(path):
            parts = module.split(".")
            exporter = ".".join(parts[:2]) if len(parts) > 2 else module
            exported = getattr(importlib.import_module(exporter), "__all__", None)
            if name.startswith("_"):
                bad.append(f"{path.name}: {module}.{name} is private")
            elif exported is not None and module != exporter:
                bad.append(f"{path.name}: {module}.{name}: import it from {exporter}")
            elif exported is not None and name not in exported:
                bad.append(f"{path.name}: {module}.{name} is not in {exporter}.__all__")
    assert bad == []


def _package_imports() -> dict[str, set[str]]:
    """Each module of the package → the package's modules it imports (lazy imports too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imported_modules(path.read_text(encoding="utf-8"), package) & set(modules)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_settings_know_nothing_of_the_scaling_methods():
    imported = _package_imports()["mur_graph.config"]
    assert not [m for m in imported if m.startswith("mur_graph.")], "config.py sits under everything"


def test_the_package_has_no_import_cycle():
    graph = _package_imports()
    assert len(graph) > 50 and "mur_graph.scaling" in graph["mur_graph.graph"]  # the walk saw the package
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_and_a_lazy_upward_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    lazy = "def f():\n    from mur_graph.scaling import paper_gamma\n"
    assert "mur_graph.scaling" in _imported_modules(lazy, "mur_graph")
