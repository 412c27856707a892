"""`export_hf` and `mur-graph models export-hf`: names, refusals and the cached export (no model loaded)."""

import json

import pytest

from mur_graph.cli import main
from mur_graph.models import EXPORTABLE_MODELS, export_dir, export_hf, is_exported
from mur_graph.models.export_hf import MARKER


def fake_export(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / MARKER).write_text(json.dumps({"dtype": "bfloat16"}))
    return folder


def test_the_shipped_models_are_exportable_into_the_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUR_GRAPH_CACHE", str(tmp_path))
    assert sorted(EXPORTABLE_MODELS) == ["qwen2.5-coder-1.5b", "smollm2"]
    assert export_dir("smollm2") == tmp_path / "smollm2-135m-instruct-bf16-hf"


def test_an_unknown_name_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"unknown model 'llama'.*smollm2, qwen2.5-coder-1.5b"):
        export_hf("llama")


def test_a_finished_export_is_returned_without_loading_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("MUR_GRAPH_CACHE", str(tmp_path))
    folder = fake_export(export_dir("smollm2"))
    assert is_exported(folder) and export_hf("smollm2") == folder


def test_a_folder_holding_something_else_is_not_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"is not a mur-graph export; pass an empty or new folder"):
        export_hf("smollm2", tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_cli_prints_the_export_folder(tmp_path, capsys):
    folder = fake_export(tmp_path / "smol")
    assert main(["models", "export-hf", "smollm2", str(folder)]) == 0
    assert capsys.readouterr().out == f"{folder}\n"


def test_the_cli_refuses_another_folder_in_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["models", "export-hf", "smollm2", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error:") and "pass an empty or new folder" in line


def test_a_folder_is_saved_whole_or_not_at_all(tmp_path):
    from mur_graph.models.embedded import save_into_place

    target = tmp_path / "model"
    target.mkdir()  # an empty folder is replaced

    def save(staging):
        (staging / "config.json").write_text("{}")

    save_into_place(target, save, finished=lambda folder: (folder / "config.json").is_file())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert (target / "config.json").read_text() == "{}"

    def fail(staging):
        (staging / "half").write_text("x")
        msg = "disk full"
        raise OSError(msg)

    with pytest.raises(OSError, match="disk full"):
        save_into_place(tmp_path / "other", fail, finished=lambda folder: False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], "no staging folder left behind"
