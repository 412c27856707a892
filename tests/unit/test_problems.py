import gzip
import json
from pathlib import Path

import pytest

from mur_graph.eval.problems import Problem, Skipped, load_problems, parse_levels

SHARED = Path(__file__).resolve().parents[3] / "shared" / "mur_data"


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is missing")
    return SHARED


@pytest.mark.parametrize(
    ("name", "count", "kind"),
    [
        ("math_500_test.json", 500, "math"),
        ("aime2024_test.json", 30, "math"),
        ("aime2025_test.json", 30, "math"),
        ("gpqa_diamond_test.json.gz", 198, "choice"),
    ],
)
def test_shared_files(shared, name, count, kind):
    problems, skipped = load_problems(str(shared / name))
    assert skipped == []
    assert len(problems) == count
    assert {p.kind for p in problems} == {kind}
    assert [p.index for p in problems] == list(range(count))
    assert all(p.source == str(shared / name) and p.question.strip() for p in problems)


def test_shared_aime2024_int_target_and_ids(shared):
    problems, _ = load_problems(str(shared / "aime2024_test.json"))
    assert problems[0].reference == "33"
    assert problems[0].id == "1"  # problem_id (int) becomes str


def test_shared_ids(shared):
    math500, _ = load_problems(str(shared / "math_500_test.json"))
    assert math500[0].id == "test/precalculus/807.json"
    aime25, _ = load_problems(str(shared / "aime2025_test.json"))
    assert aime25[3].id == "3"  # no id field: the index
    gpqa, _ = load_problems(str(shared / "gpqa_diamond_test.json.gz"))
    assert gpqa[0].reference in {"A", "B", "C", "D"}
    assert "(A)" in gpqa[0].question


RECORDS = [
    {"id": "a", "input": "What is 1+1?", "target": "2"},
    {"problem_id": 7, "question": "What is 2+3?", "answer": 5},
    {"Problem": "What is 3*3?", "Answer": "9"},
]


def test_json_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(RECORDS))
    problems, skipped = load_problems(str(path))
    assert skipped == []
    assert problems == [
        Problem("a", "What is 1+1?", "2", "math", str(path), 0),
        Problem("7", "What is 2+3?", "5", "math", str(path), 1),
        Problem("2", "What is 3*3?", "9", "math", str(path), 2),
    ]


def test_jsonl_file_with_blank_and_bad_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    lines = [json.dumps(RECORDS[0]), "", "{not json", "   ", json.dumps(RECORDS[1])]
    path.write_text("\n".join(lines) + "\n")
    problems, skipped = load_problems(str(path))
    assert [(p.id, p.index) for p in problems] == [("a", 0), ("7", 2)]
    assert len(skipped) == 1
    assert skipped[0].index == 1
    assert skipped[0].source == str(path)
    assert "not valid JSON" in skipped[0].reason


def test_gzipped_jsonl_file(tmp_path):
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r) for r in RECORDS))
    problems, skipped = load_problems(str(path))
    assert skipped == []
    assert [p.reference for p in problems] == ["2", "5", "9"]


def test_malformed_records_are_skipped(tmp_path):
    records = [
        {"input": "good one", "target": "1"},
        ["not", "a", "dict"],
        {"target": "1"},
        {"input": "no reference"},
        {"input": 42, "target": "1"},
        {"input": "   ", "target": "1"},
        {"input": "list reference", "target": [1, 2]},
        {"input": "bool reference", "target": True},
        {"question": "another good one", "answer": 3},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records))
    problems, skipped = load_problems(str(path))
    assert [(p.question, p.index) for p in problems] == [("good one", 0), ("another good one", 8)]
    assert [s.index for s in skipped] == [1, 2, 3, 4, 5, 6, 7]
    reasons = {s.index: s.reason for s in skipped}
    assert "expected an object" in reasons[1]
    assert reasons[2] == "missing field: one of input, question, problem, Problem, Question"
    assert reasons[3] == "missing field: one of target, answer, Answer"
    assert reasons[4] == "field 'input' has type int, expected str"
    assert "'input'" in reasons[5] and "empty" in reasons[5]
    assert reasons[6] == "field 'target' has type list, expected str or int"
    assert reasons[7] == "field 'target' has type bool, expected str or int"
    assert all(isinstance(s, Skipped) and s.source == str(path) for s in skipped)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "no records"),
        ("[]", "no records"),
        ('[{"input": "x", "target": "1"},\n {"input": "y", "tar', "not valid JSON (line 2"),
        ('{"input": "x", "target": "1"}', "expected a JSON list of records, got dict"),
    ],
)
def test_unusable_json_file_raises(tmp_path, content, expected):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"broken\.json") as info:
        load_problems(str(path))
    assert expected in str(info.value)


def test_corrupt_gzip_raises(tmp_path):
    path = tmp_path / "broken.json.gz"
    path.write_bytes(gzip.compress(json.dumps(RECORDS).encode())[:20])
    with pytest.raises(ValueError, match=r"broken\.json\.gz"):
        load_problems(str(path))


def test_missing_path_raises(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError, match=r"nope\.json"):
        load_problems(str(path))
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl"):
        load_problems("missing.jsonl")


def test_unloadable_hub_name_raises(monkeypatch):
    datasets = pytest.importorskip("datasets")
    calls = []

    def offline(name, split):
        calls.append((name, split))
        msg = "offline"
        raise ConnectionError(msg)

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match="local file") as info:
        load_problems("someone/some-benchmark", split="train")
    assert "someone/some-benchmark" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert calls == [("someone/some-benchmark", "train")]


def test_hub_records(monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets, "load_dataset", lambda name, split: list(RECORDS))
    problems, skipped = load_problems("someone/some-benchmark", limit=2)
    assert skipped == []
    assert [p.id for p in problems] == ["a", "7"]
    assert problems[0].source == "someone/some-benchmark"


def test_limit_counts_valid_problems(tmp_path):
    records = [{"input": "bad"}, *RECORDS]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(records))
    problems, skipped = load_problems(str(path), limit=2)
    assert [p.id for p in problems] == ["a", "7"]
    assert len(skipped) == 1
    assert load_problems(str(path), limit=0)[0] == []


def test_kind_detection_and_override(tmp_path):
    choice = [
        {"input": "Pick one\n(A) x\n(B) y\n(C) z\n(D) w", "target": " b "},
        {"input": "Again\n(A) x\n(B) y", "target": "D"},
    ]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(choice))
    assert {p.kind for p in load_problems(str(path))[0]} == {"choice"}
    assert {p.kind for p in load_problems(str(path), kind="math")[0]} == {"math"}

    # a letter answer without options in the question is a math problem
    path.write_text(json.dumps([*choice, {"input": "Which letter?", "target": "A"}]))
    assert {p.kind for p in load_problems(str(path))[0]} == {"math"}
    assert {p.kind for p in load_problems(str(path), kind="choice")[0]} == {"choice"}


def test_levels_and_records_filter_before_the_limit(tmp_path):
    levels = [1, "Level 2", 3, 2, None, 1]
    records = [{"id": f"r{i}", "input": f"q{i}", "target": "1", "level": lv} for i, lv in enumerate(levels)]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(records))
    problems, skipped = load_problems(str(path), levels=parse_levels("1-2"))
    assert [p.id for p in problems] == ["r0", "r1", "r3", "r5"]
    assert skipped == [Skipped(str(path), 4, "no level field (needed to filter by level)")]
    problems, _ = load_problems(str(path), levels={1, 2}, records=4, limit=2)
    assert [p.id for p in problems] == ["r0", "r1"]
    assert [p.id for p in load_problems(str(path), levels={2}, records=4)[0]] == ["r1", "r3"]
    assert parse_levels("1,3-4") == {1, 3, 4}
    with pytest.raises(ValueError, match="like 1,2 or 1-2"):
        parse_levels("easy")
    with pytest.raises(ValueError, match="records must be >= 0"):
        load_problems(str(path), records=-1)


def test_shared_math500_levels_1_2_of_the_first_400(shared):
    problems, skipped = load_problems(str(shared / "math_500_test.json"), levels={1, 2}, records=400)
    assert (len(problems), skipped) == (109, [])
