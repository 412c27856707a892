import pytest

from mur_graph.answers import extract_answer, has_answer


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("so the answer is 42.", "42"),
        ("The answer is: 32", "32"),
        ('This is the answer to the question "The answer is: 32"', "32"),
        ("Thus the answer is $\\frac{14}{3}$.", "\\frac{14}{3}"),
        ("We get \\boxed{\\frac{1}{2}} in the end", "\\frac{1}{2}"),
        (
            "\\boxed{1} then \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}",
            "\\left( 3, \\frac{\\pi}{2} \\right)",
        ),
        ("the answer is 7\nStep9: more text", "7"),
        # a model wrapping the phrase in \text{}: the closing brace is not the answer (seen on Qwen)
        ("\\[\n   \\text{The answer is} (3, \\frac{\\pi}{2})\n   \\]", "(3, \\frac{\\pi}{2})"),
        ("\\textbf{The answer is: } 12.", "12"),
        ("the answer is\n  5", "5"),
        ("no conclusion here", None),
        ("the answer is", None),
    ],
)
def test_extract_answer(text, answer):
    assert extract_answer(text) == answer


def test_has_answer():
    assert has_answer("Therefore, The Answer Is 5")
    assert has_answer("\\boxed{5}")
    assert not has_answer("Step3: 17 + 25 = 42")
