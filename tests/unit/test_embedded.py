"""Finding the embedded model: clear errors that say how to install it, and the cache location."""

import importlib.util

import pytest

from mur_graph.models import embedded
from mur_graph.models.embedded import EmbeddedModelError, cache_root, find_embedded_gguf


def test_a_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EmbeddedModelError, match=r"mur-graph models install smollm2$"):
        find_embedded_gguf()


def test_the_gguf_is_found_without_importing_the_package():
    path = find_embedded_gguf()
    assert path.name == embedded.EMBEDDED_GGUF and path.stat().st_size > 50_000_000


def test_cache_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MUR_GRAPH_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    monkeypatch.delenv("MUR_GRAPH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "mur-graph"
