"""mur_graph.claims: the answers and computed numbers candidate steps can agree on."""

from fractions import Fraction

import pytest

from mur_graph.claims import exact_number, normal_answer, step_claims


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 * 21 = 126 inches, so", {"result:126"}),
        ("$54 \\div 3 = 18$ sets", {"result:18"}),
        ("The speed is \\(\\frac{4.5}{6} = 0.75 \\text{ miles per minute}\\)", {"result:3/4"}),
        ("so $x = \\frac{3}{4}$.", {"result:3/4"}),
        ("a total of 1,250 + 50 = 1,300.", {"result:1300"}),
        ("x = -149/39 or", {"result:-149/39"}),
        ("Time = 6 minutes / 60 = 0.1 hours", {"result:6", "result:1/10"}),
        # not a whole value: a symbol, an operator or a variable follows
        ("We know that the volume $V = 45\\pi$ cubic cm.", set()),
        ("so the perimeter = 6 \\times 21", set()),
        ("then = 6 * 21", set()),
        ("so y = 2x + 1", set()),
        ("= 3^2 + 1", set()),
        ("no equation here: 42 apples", set()),
    ],
)
def test_results_are_numbers_that_are_a_whole_right_hand_side(text, expected):
    assert step_claims(text) == expected


def test_answers_are_compared_loosely_and_numeric_answers_are_also_results():
    assert step_claims("The answer is \\text{Angela}.") == step_claims("the answer is Angela")
    assert step_claims("the answer is \\boxed{\\frac{1}{2}}") == {"answer:\\frac{1}{2}", "result:1/2"}
    assert step_claims("so $\\boxed{0.5}$", ["0.5"]) == {"answer:0.5", "result:1/2"}
    assert step_claims("", ["not a number"]) == {"result:notanumber"}


def test_exact_numbers_and_loose_answers():
    assert exact_number("1,250") == 1250 and exact_number("-0.75") == Fraction(-3, 4)
    assert exact_number("\\dfrac{6}{8}") == Fraction(3, 4) and exact_number("3/0") is None
    assert exact_number("45\\pi") is None and exact_number("x") is None
    assert normal_answer("\\text{ Carla }.") == "carla"
