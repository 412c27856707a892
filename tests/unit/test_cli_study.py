"""`mur-graph study` on an order-free fake model: cells, pairing, resume, report."""

import json

import pytest

from mur_graph.cli import build_parser, main
from mur_graph.cli import study as cli_study
from mur_graph.eval.results import read_records
from tests.unit.test_eval_runner import Arithmetic

PROMPTED = ["--step-format", "prompted"]
"""The step format whose turns `Arithmetic` reads (and the one the names below leave out)."""


class Study:
    """`mur-graph study ARGS` with a fake model; `parse_args` and `cell_configs` as the command sees them."""

    @staticmethod
    def main(argv):
        return main(["study", *PROMPTED, *argv])

    @staticmethod
    def parse_args(argv):
        return build_parser().parse_args(["study", *PROMPTED, *argv])

    cell_configs = staticmethod(cli_study.cell_configs)


@pytest.fixture
def runner(monkeypatch):
    model = Arithmetic(delay=0.0)
    monkeypatch.setattr(cli_study, "load_models", lambda args: (model, model, "fake", "fake"))
    return Study


@pytest.fixture
def data(tmp_path):
    levels = [1, 3, 2, 1, 2]
    path = tmp_path / "math_500_test.json"
    records = [
        {"id": f"q{i}", "input": f"What is {i} + 2?", "target": str(i + 2), "level": lv}
        for i, lv in enumerate(levels)
    ]
    path.write_text(json.dumps(records))
    return tmp_path


def test_every_cell_runs_the_same_questions_and_a_rerun_resumes(runner, data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--data", str(data), "--out", str(out), "--critic-kinds", "confidence,vote", "--records", "4"]
    assert runner.main(argv) == 0
    names = sorted(p.name for p in out.glob("*.jsonl"))
    assert names == [
        "math_500__guided_search__confidence__mur__g0.8.jsonl",
        "math_500__guided_search__confidence__per_step.jsonl",
        "math_500__guided_search__cot.jsonl",
        "math_500__guided_search__vote__mur__g0.8.jsonl",
        "math_500__guided_search__vote__per_step.jsonl",
    ]
    for name in names:  # levels 1-2 of the first 4 records, paired: same ids, same seed
        records = read_records(out / name)
        assert [r["id"] for r in records] == ["q0", "q2", "q3"]
        assert {r["settings"]["seed"] for r in records} == {0}
    printed = capsys.readouterr().out
    assert "[1/3] q0: guided_search/cot=✓15t guided_search/confidence/per_step=✓75t" in printed
    assert "| math_500 | guided_search | vote | per_step |" in (out / "report.md").read_text()
    assert runner.main([*argv, "--modes", "cot"]) == 0
    assert "[3/3] q3: guided_search/cot=done" in capsys.readouterr().out


def test_other_methods_get_one_cell_per_mode_and_bad_input_is_refused(
    runner, data, tmp_path, capsys, monkeypatch
):
    args = runner.parse_args(
        ["--data", str(data), "--out", "x", "--methods", "critic,phi", "--critic-kinds", "vote"]
    )
    configs = runner.cell_configs(args)
    assert [(m, own, c.mode) for m, own, c in configs] == [
        (m, own, mode)
        for m, own in (("critic", {"critique_tokens": 64}), ("phi", {}))
        for mode in ("cot", "per_step", "mur")
    ]  # a critic kind is guided search's; the critic's local-model limit holds in every mode
    assert {c.gamma for _, _, c in configs} == {0.9}
    assert runner.main(["--data", str(data), "--out", "x", "--critic-kinds", "oracle"]) == 2
    assert "unknown critic kinds ['oracle']" in capsys.readouterr().err
    assert runner.main(["--data", str(tmp_path / "nowhere"), "--out", "x"]) == 2
    assert "nowhere: no such file; pass --data the MATH-500 file" in capsys.readouterr().err
    monkeypatch.delenv("MUR_DATA", raising=False)
    assert runner.main(["--out", "x"]) == 2
    assert "pass --data (the MATH-500 file or its folder) or set $MUR_DATA" in capsys.readouterr().err


def test_gammas_give_one_mur_cell_per_gamma_and_critic_kind(runner, data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--data", str(data), "--out", str(out), "--critic-kinds", "confidence", "--records", "2"]
    assert runner.main([*argv, "--modes", "mur", "--gammas", "0.5,0.9"]) == 0
    assert sorted(p.name for p in out.glob("*.jsonl")) == [
        "math_500__guided_search__confidence__mur__g0.5.jsonl",
        "math_500__guided_search__confidence__mur__g0.9.jsonl",
    ]
    (first,) = read_records(out / "math_500__guided_search__confidence__mur__g0.5.jsonl")[:1]
    assert first["settings"]["gamma"] == 0.5
    assert "guided_search/confidence/mur@0.5=✓" in capsys.readouterr().out
    assert runner.main([*argv, "--gammas", "0.5,x"]) == 2
    assert "--gammas must be comma-separated numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one γ or a list, not both
        runner.main([*argv, "--gamma", "0.8", "--gammas", "0.5"])


def test_gamma_cells_replay_the_calls_they_share_through_the_call_cache(runner, data, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "calls.sqlite"
    argv = ["--data", str(data), "--out", str(out), "--critic-kinds", "confidence", "--records", "1"]
    assert runner.main([*argv, "--modes", "mur", "--gammas", "0.5,0.9", "--call-cache", str(cache)]) == 0
    first, second = (
        read_records(out / f"math_500__guided_search__confidence__mur__g{g}.jsonl") for g in ("0.5", "0.9")
    )
    assert first[0]["replayed"]["calls"] == 0
    assert second[0]["replayed"]["calls"] >= 1  # the draft of step 0 is the same call at every γ
    assert runner.main([*argv, "--call-cache", str(tmp_path)]) == 2  # a folder is no SQLite file


def test_skip_leaves_out_the_first_questions_which_a_later_run_fills_in(runner, data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--data", str(data), "--out", str(out), "--critic-kinds", "confidence", "--modes", "cot"]
    assert runner.main([*argv, "--skip", "2", "--limit", "3"]) == 0  # questions 3 to 3 of q0 q2 q3 q4
    (name,) = [p.name for p in out.glob("*.jsonl")]
    assert [r["id"] for r in read_records(out / name)] == ["q3"]
    printed = capsys.readouterr().out
    assert "3 questions (from question 3) × 1 cells" in printed
    assert "[3/3] q3: guided_search/cot=✓" in printed and "q0" not in printed
    assert runner.main(argv) == 0
    assert [r["id"] for r in read_records(out / name)] == ["q3", "q0", "q2", "q4"]
    assert "[3/4] q3: guided_search/cot=done" in capsys.readouterr().out
    for bad in ("4", "-1"):
        assert runner.main([*argv, "--skip", bad]) == 2
        assert "--skip must be between 0 and 3 (there are 4 questions)" in capsys.readouterr().err


def test_a_cell_file_made_with_other_settings_is_refused_before_any_run(runner, data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--data", str(data), "--out", str(out), "--critic-kinds", "confidence", "--modes", "cot"]
    assert runner.main([*argv, "--limit", "1", "--max-steps", "3"]) == 0
    (path,) = out.glob("*.jsonl")
    before = path.read_bytes()
    capsys.readouterr()
    assert runner.main([*argv, "--max-steps", "4"]) == 2
    error = capsys.readouterr().err
    assert "holds results made with other settings (max_steps: 3 there, 4 now)" in error
    assert "choose another --out, or pass that run's settings" in error
    assert "Traceback" not in error
    assert path.read_bytes() == before  # nothing run, nothing written
