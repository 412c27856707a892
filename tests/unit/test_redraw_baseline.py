"""benchmarks/checks/redraw_baseline.py: MUR's fixes and breaks against a fresh CoT run, by hand."""

from benchmarks.checks.redraw_baseline import compare


def graded(correct: bool, scaled: int = 0) -> dict:
    return {"status": "ok", "correct": correct, "result": {"n_scaled": scaled}}


def test_a_redraw_fixes_and_breaks_as_often_as_the_other_seeds_are_right_and_wrong():
    cot = {"a": graded(False), "b": graded(True), "c": graded(False), "d": graded(True)}
    mur = {"a": graded(True, 1), "b": graded(False, 2), "c": graded(False, 0), "d": graded(True, 1)}
    others = [
        {"a": graded(True), "b": graded(True), "c": graded(True), "d": graded(False)},
        {"a": graded(False), "b": graded(False), "c": graded(True), "d": graded(False)},
    ]
    # fired: a (CoT wrong; MUR fixed it; the others right 1 of 2), b and d (CoT right; MUR broke b;
    # the others wrong 1 of 2 on b, 2 of 2 on d); c never fired
    assert compare(mur, cot, others) == {
        "questions": 4,
        "wrong fired": 1,
        "MUR fixed": 1,
        "redraw fixes": 0.5,
        "right fired": 2,
        "MUR broke": 1,
        "redraw breaks": 1.5,
    }


def test_only_questions_every_cot_seed_answered_count():
    cot = {"a": graded(False), "b": graded(False)}
    mur = {"a": graded(True, 1), "b": graded(True, 1)}
    row = compare(mur, cot, [{"a": graded(True)}])
    assert (row["questions"], row["wrong fired"], row["MUR fixed"], row["redraw fixes"]) == (1, 1, 1, 1.0)
