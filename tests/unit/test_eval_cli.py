"""`mur-graph sweep`, `calibrate --check` and `report` end to end on an order-free fake model."""

import json

import pytest

from mur_graph.cli import eval as commands
from mur_graph.cli import main as cli_main
from tests.unit.test_eval_runner import Arithmetic


def main(argv):
    """`mur-graph ARGV`; a run in the `prompted` step format, whose turns `Arithmetic` reads."""
    runs = {"eval", "sweep", "calibrate"}
    return cli_main([*argv, "--step-format", "prompted"] if argv[0] in runs else argv)


@pytest.fixture
def data(tmp_path, monkeypatch):
    model = Arithmetic(delay=0.0)  # answers "the answer is N" at step 0: 15 tokens a question
    monkeypatch.setattr(commands, "load_models", lambda args: (model, model, "fake", "fake"))
    path = tmp_path / "d.jsonl"
    lines = [
        {"id": f"q{i}", "input": f"What is {i} + 2?", "target": str(i + 2), "level": 1} for i in range(3)
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    return path


def test_calibrate_check_runs_the_chosen_gamma_on_the_sweeps_questions(data, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    base = ["--dataset", str(data), "--critic-kind", "confidence"]
    assert main(["sweep", *base, "--out", str(sweep), "--gammas", "0.5,0.9", "--limit", "2"]) == 0
    assert (sweep / "sweep.png").exists()
    # Another critic kind's cell in the same folder (a paired run's) is no point of this curve.
    other = ["eval", "--dataset", str(data), "--critic-kind", "vote", "--mode", "per_step", "--limit", "2"]
    assert main([*other, "--out", str(sweep)]) == 0
    # Nor is the same critic's per-step with the calculator on: another variant, another curve.
    variant = ["eval", *base, "--mode", "per_step", "--calculator", "--limit", "2"]
    assert main([*variant, "--out", str(sweep)]) == 0
    assert (sweep / "d__guided_search__confidence__per_step__calc.jsonl").exists()
    calibrate = ["calibrate", *base, "--out", str(tmp_path / "cal"), "--target-tokens", "15"]
    assert main([*calibrate, "--dev", "1", "--holdout", "1", "--check", str(sweep)]) == 0
    summary = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert summary["gamma"] == 0.05
    assert summary["check"] == {
        "folder": str(sweep),
        "questions": 2,  # the sweep's two, not the dataset's three
        "total_tokens": 15.0,
        "relative_error": 0.0,
        "within_tolerance": True,
    }
    assert (sweep / "d__guided_search__confidence__mur__g0.05.jsonl").exists()
    table = (sweep / "sweep.md").read_text()
    assert "| d | guided_search | confidence | mur | 0.05 | — | 2 |" in table
    assert "| d | guided_search | — | cot | — | — | 2 |" in table and "vote" not in table
    assert "calculator" not in table
    assert "check on the sweep's 2 questions" in capsys.readouterr().err


def test_calibrate_check_needs_a_sweep_of_the_same_dataset(data, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["calibrate", "--dataset", str(data), "--out", str(tmp_path / "c"), "--target-tokens", "15"]
    assert main([*argv, "--dev", "1", "--holdout", "1", "--check", str(empty)]) == 2
    assert "no results of d in" in capsys.readouterr().err


def test_report_marks_partial_rows_against_the_expected_questions(data, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["eval", "--dataset", str(data), "--out", str(out), "--mode", "cot", "--level", "1"]) == 0
    assert main(["report", str(out), "--questions", "5"]) == 0
    assert "partial (3 of 5)" in (out / "report.md").read_text()


def test_report_common_compares_rows_on_shared_questions_and_plots_them(data, tmp_path, capsys):
    out = tmp_path / "r"
    base = ["eval", "--dataset", str(data), "--out", str(out), "--critic-kind", "confidence"]
    assert main([*base, "--mode", "cot"]) == 0
    assert main([*base, "--mode", "per_step", "--limit", "2"]) == 0
    assert main([*base, "--mode", "mur", "--gamma", "0.5", "--limit", "1"]) == 0
    stem = tmp_path / "img" / "qwen2.5-curve"  # a dot in the name is not a suffix to replace
    assert main(["report", str(out), "--common", "--plot", str(stem)]) == 0
    table = (out / "report.md").read_text()
    assert "| d | guided_search | — | cot | — | — | 1 |" in table
    assert "| d | guided_search | confidence | per_step | — | — | 1 |" in table
    png, svg = stem.parent / "qwen2.5-curve.png", stem.parent / "qwen2.5-curve.svg"
    assert png.stat().st_size > 0 and svg.exists()
    assert sorted(p.name for p in stem.parent.iterdir()) == [png.name, svg.name]
    assert f"wrote {out / 'report.md'}, {png}, {svg}" in capsys.readouterr().err


def test_report_of_chosen_files_leaves_the_folders_report_whole(data, tmp_path, capsys):
    out = tmp_path / "r"
    base = ["eval", "--dataset", str(data), "--out", str(out), "--critic-kind", "confidence"]
    assert main([*base, "--mode", "cot"]) == 0
    assert main([*base, "--mode", "per_step", "--limit", "1"]) == 0
    assert main(["report", str(out)]) == 0
    whole = (out / "report.md").read_text()
    assert "| per_step |" in whole
    capsys.readouterr()
    assert main(["report", str(out / "d__guided_search__cot.jsonl")]) == 0
    printed = capsys.readouterr()
    assert "cot" in printed.out and "wrote" not in printed.err
    assert (out / "report.md").read_text() == whole
    chosen = tmp_path / "chosen.md"
    assert main(["report", str(out / "d__guided_search__cot.jsonl"), "--out", str(chosen)]) == 0
    assert "| per_step |" not in chosen.read_text() and "| cot |" in chosen.read_text()
