"""`report --regrade`: answers extracted and graded again from stored solutions, files untouched."""

import json

from mur_graph.cli import main
from mur_graph.eval.regrade import regraded


def record(qid, solution, answer, correct, **result):
    return {
        "id": qid,
        "index": 0,
        "dataset": "toy",
        "question": "What is 40 + 2?",
        "reference": "42",
        "kind": "math",
        "status": "ok",
        "answer": answer,
        "correct": correct,
        "wall_time_s": 1.0,
        "settings": {"mode": "cot", "method": "guided_search", "gamma": 0.8, "seed": 0},
        "result": {
            "solution": solution,
            "n_steps": 1,
            "n_scaled": 0,
            "steps": [],
            "totals": {"policy": 10, "critic": 0, "total": 10},
            **result,
        },
    }


OLD = record("q1", "Step0: \\[ \\text{The answer is} 42 \\]", "} 42 \\]", False)


def test_a_record_made_by_older_extraction_is_graded_again_from_its_solution():
    again = regraded(OLD)
    assert (again["answer"], again["correct"]) == ("42 \\]", True)
    assert OLD["correct"] is False  # the record itself is left alone


def test_failed_and_truncated_records_are_left_as_they_were():
    cut = record("q2", "the answer is 4", None, False, answer_truncated=True)
    assert regraded(cut) == cut
    failed = {"id": "q3", "status": "failed", "error": "boom", "settings": {}}
    assert regraded(failed) == failed


def test_report_regrade_changes_the_table_not_the_file(tmp_path, capsys):
    path = tmp_path / "toy__guided_search__cot.jsonl"
    path.write_text(json.dumps(OLD) + "\n")
    before = path.read_text()
    assert main(["report", str(path)]) == 0
    assert "| 0.0 [0.0, 79.3] |" in capsys.readouterr().out
    assert main(["report", str(path), "--regrade"]) == 0
    assert "| 100.0 [20.7, 100.0] |" in capsys.readouterr().out
    assert path.read_text() == before
