import math

import pytest

from mur_graph.scoring import verdict_word, yes_probability


def test_yes_probability_is_normalised_at_the_first_verdict_slot():
    tops = [
        {"\\boxed{": -0.1, "The": -2.0},
        {"Yes": math.log(0.6), " yes": math.log(0.1), "No": math.log(0.2)},
        {"No": 0.0},
    ]
    assert yes_probability(tops) == pytest.approx(0.7 / 0.9)


def test_only_no_gives_zero_and_nothing_gives_none():
    assert yes_probability([{"No": -0.01}]) == 0.0
    assert yes_probability([{"Maybe": -0.1}, {"It": -0.2}]) is None
    assert yes_probability([]) is None


@pytest.mark.parametrize(
    ("token", "word"),
    [("Yes", "yes"), (" YES", "yes"), ("{No}", "no"), ("**no", "no"), ("Nope", None), ("yesterday", None)],
)
def test_verdict_word(token, word):
    assert verdict_word(token) == word
