"""`mur-graph compare`: two folders' same cells paired question by question."""

import json

from mur_graph.cli import main


def write(folder, name, marks, status="ok"):
    folder.mkdir(exist_ok=True)
    lines = [{"id": f"q{i}", "status": status, "correct": bool(m)} for i, m in enumerate(marks)]
    (folder / name).write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_pairs_same_named_cells_and_sums_them(tmp_path, capsys):
    a, b = tmp_path / "off", tmp_path / "on"
    write(a, "cot.jsonl", [1, 1, 0, 0])
    write(b, "cot.jsonl", [0, 1, 1])  # q3 not run yet: not paired
    write(a, "mur.jsonl", [1, 0])
    write(b, "mur.jsonl", [0, 0])
    write(a, "only_here.jsonl", [1])
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "cot.jsonl: 3 questions, B won 1, lost 1 (p=1)",
        "mur.jsonl: 2 questions, B won 0, lost 1 (p=1)",
        "all: 5 pairs, B won 1, lost 2",
    ]


def test_no_shared_cell_is_a_clear_error(tmp_path, capsys):
    write(tmp_path / "a", "x.jsonl", [1])
    write(tmp_path / "b", "y.jsonl", [1])
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "no results cell is in both" in capsys.readouterr().err


def test_an_arm_run_with_a_variant_pairs_with_the_same_cells_without_it(tmp_path, capsys):
    a, b = tmp_path / "off", tmp_path / "on"
    write(a, "m__guided_search__cot.jsonl", [1, 0])
    write(b, "m__guided_search__cot__calc.jsonl", [1, 1])
    write(a, "m__guided_search__mur__g0.8__bc.jsonl", [0])
    write(b, "m__guided_search__mur__g0.8__bc__calc.jsonl", [1])
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "m__guided_search__cot.jsonl: 2 questions, B won 1, lost 0 (p=1)",
        "m__guided_search__mur__g0.8.jsonl: 1 questions, B won 1, lost 0 (p=1)",
        "all: 3 pairs, B won 2, lost 0",
    ]


def test_a_folder_with_two_variants_of_a_cell_is_a_clear_error(tmp_path, capsys):
    write(tmp_path / "a", "m__cot.jsonl", [1])
    write(tmp_path / "b", "m__cot.jsonl", [1])
    write(tmp_path / "b", "m__cot__calc.jsonl", [1])
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "holds m__cot.jsonl and m__cot__calc.jsonl, two variants of one cell" in err


def test_two_files_are_paired_with_each_other(tmp_path, capsys):
    write(tmp_path, "x__confidence__per_step.jsonl", [1, 0, 0, 1])
    write(tmp_path, "x__vote__per_step.jsonl", [1, 1, 1, 0])
    a, b = tmp_path / "x__confidence__per_step.jsonl", tmp_path / "x__vote__per_step.jsonl"
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "x__vote__per_step.jsonl against x__confidence__per_step.jsonl: 4 questions, B won 2, lost 1 (p=1)"
    ]


def test_a_file_and_a_folder_or_a_missing_path_are_clear_errors(tmp_path, capsys):
    write(tmp_path / "a", "cot.jsonl", [1])
    assert main(["compare", str(tmp_path / "a" / "cot.jsonl"), str(tmp_path / "a")]) == 2
    assert "two folders or two results files" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "nowhere")]) == 2
    assert "no such folder or file" in capsys.readouterr().err


def test_the_arm_variants_of_the_results_table_are_what_a_cell_leaves_out():
    from mur_graph.config import MURConfig
    from mur_graph.eval.compare import cell_of
    from mur_graph.eval.results import results_name

    arms = MURConfig(bias_correction=True, calculator=True)
    assert cell_of(results_name("m", arms)) == results_name("m", MURConfig())
    reused = MURConfig(reuse_draft=True)  # not an arm: a cell of its own
    assert cell_of(results_name("m", reused)) == results_name("m", reused)
    # an arm's parts go wherever they stand: a step format and a seed follow them
    for step_format in ("prompted", "natural"):
        arm = MURConfig(calculator=True, step_format=step_format, seed=1)
        assert cell_of(results_name("m", arm)) == results_name("m", arm.replace(calculator=False))
    assert cell_of("m__guided_search__mur__g0.8__bc__calc__fnatural__s1.jsonl") == (
        "m__guided_search__mur__g0.8__fnatural__s1.jsonl"
    )
