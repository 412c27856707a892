"""benchmarks/compare_folders.py: two folders' same-named cells paired question by question."""

import json

from tests.scripts import load_script


def load():
    return load_script("benchmarks/compare_folders.py")


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
    assert load().main([str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "cot.jsonl: 3 questions, B won 1, lost 1 (p=1)",
        "mur.jsonl: 2 questions, B won 0, lost 1 (p=1)",
        "all: 5 pairs, B won 1, lost 2",
    ]


def test_no_shared_cell_is_a_clear_error(tmp_path, capsys):
    write(tmp_path / "a", "x.jsonl", [1])
    write(tmp_path / "b", "y.jsonl", [1])
    assert load().main([str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "no results file name is in both" in capsys.readouterr().err
