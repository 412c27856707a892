import pytest

from mur_graph.ledger import KINDS, add_ledgers, ledger_totals
from tests.fakes import sum_ledgers


def test_add_and_totals():
    a = {"policy_step": 3, "critic": 2}
    b = {"candidates": 5, "critic": 1, "fallback": 4}
    total = add_ledgers(a, b)
    assert total == {**dict.fromkeys(KINDS, 0), "policy_step": 3, "candidates": 5, "fallback": 4, "critic": 3}
    assert ledger_totals(total) == {"policy": 12, "critic": 3, "total": 15}
    assert sum_ledgers([a, b, {}]) == total
    assert set(add_ledgers(None, None)) == set(KINDS)


def test_unknown_kind_is_rejected():
    with pytest.raises(KeyError, match="unknown ledger kind 'prompt'"):
        add_ledgers({"prompt": 1}, None)
