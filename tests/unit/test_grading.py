import threading

import pytest

from mur_graph.eval.grading import extract_choice, grade, math_equal
from mur_graph.eval.problems import Problem


@pytest.mark.parametrize(
    ("reference", "answer", "expected"),
    [
        ("\\frac{1}{2}", "0.5", True),
        ("\\frac{14}{3}", "\\boxed{\\frac{14}{3}}", True),
        ("\\frac{14}{3}", "14/3", True),
        ("\\frac{14}{3}", "$\\frac{14}{3}$", True),
        ("\\frac{14}{3}", "5", False),
        ("33", "33", True),
        ("33", "34", False),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", True),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi)", False),
        # math-verify's unit normalisation drops ^\circ, so a bare number matches degrees (both ways)
        ("90^\\circ", "90", True),
        ("90", "90^\\circ", True),
        ("\\frac{14}{3}", None, False),
        ("\\frac{14}{3}", "", False),
        ("\\frac{14}{3}", "   ", False),
    ],
)
def test_math_equal(reference, answer, expected):
    assert math_equal(reference, answer) is expected


def test_math_equal_in_worker_thread():
    results: list[bool] = []

    def work():
        results.append(math_equal("\\frac{14}{3}", "14/3"))
        results.append(math_equal("\\frac{14}{3}", "5"))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert results == [True, False]


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("the answer is (B)", "B"),
        ("The answer is: Benzene", None),
        ("\\boxed{C}", "C"),
        ("Answer: D.", "D"),
        ("DNA is the answer", None),
        ("B and C", "B"),
        ("I first thought (A), but the answer is **C**", "C"),
        ("Option (A) is out. \\boxed{B)}", "B"),
        ("Both options fail", None),
        ("", None),
    ],
)
def test_extract_choice(text, letter):
    assert extract_choice(text) == letter


def _problem(kind, reference):
    return Problem("0", "q\n(A) x\n(B) y\n(C) z\n(D) w", reference, kind, "test", 0)


def test_grade_choice():
    problem = _problem("choice", "C")
    assert grade(problem, "(C)", "")
    assert not grade(problem, "(B)", "... the answer is (C)")
    assert not grade(problem, None, "no letter here")


def test_grade_choice_falls_back_to_solution_tail():
    problem = _problem("choice", " c ")
    assert grade(problem, None, "long reasoning " * 50 + "so the answer is (C).")
    assert grade(problem, "Carbon", "Step3: therefore the answer is (C)")  # no letter token in answer
    # the letter must be in the last 300 characters of the solution
    assert not grade(problem, None, "the answer is (C)" + " padding" * 60)


def test_grade_math():
    problem = _problem("math", "\\frac{14}{3}")
    assert grade(problem, "14/3", "")
    assert not grade(problem, None, "the answer is 14/3")
    assert not grade(problem, "5", "")
