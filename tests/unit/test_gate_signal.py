"""`mur-graph report --gate`: how well the gate singles out the runs that end wrong, by hand."""

import json
import math

import pytest

from mur_graph.eval.gate_rates import GAMMAS
from mur_graph.eval.gate_signal import (
    auroc,
    auroc_interval,
    gate_signal,
    run_margin,
    run_mean_uncertainty,
    signal_table,
)
from tests.unit.test_gate_rates import record


def run(correct: bool | None, *margins: float, first: float = 0.2, status: str = "ok") -> dict:
    """A graded run: step 0 with m_t `first`, then one gated step per margin, each against M_{t-1} 0.1."""
    steps = [{"index": 0, "uncertainty": first, "momentum_before": 0.0, "kept_uncertainty": first}]
    for index, margin in enumerate(margins, start=1):
        steps.append({"index": index, "uncertainty": 0.1 + margin, "momentum_before": 0.1})
    return {"status": status, "correct": correct, "result": {"steps": steps, "n_steps": len(steps)}}


def test_auroc_counts_pairs_ranked_right_and_ties_as_half():
    assert auroc([3.0, 2.0], [1.0, 0.0]) == 1.0
    assert auroc([0.0], [1.0]) == 0.0
    assert auroc([1.0, 1.0], [1.0]) == 0.5
    # pairs (2>1 ✓, 2>3 ✗, 0.5>1 ✗, 0.5>3 ✗, 1=1 ½, 1>3 ✗) → 1.5 of 6
    assert auroc([2.0, 0.5, 1.0], [1.0, 3.0]) == pytest.approx(0.25)
    assert auroc([-math.inf], [-math.inf, 0.0]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="need both groups"):
        auroc([], [1.0])


def test_auroc_interval_is_hanley_and_mcneils():
    # A 0.8, 10 and 10: Q1 = 2/3, Q2 = 0.7111; SE² = (0.16 + 9·0.02667 + 9·0.07111)/100 = 0.0104
    low, high = auroc_interval(0.8, 10, 10)
    assert (low, high) == pytest.approx(
        (0.8 - 1.959964 * math.sqrt(0.0104), 0.8 + 1.959964 * math.sqrt(0.0104))
    )
    assert auroc_interval(1.0, 5, 5) == (1.0, 1.0)
    assert auroc_interval(0.5, 1, 1)[0] == 0.0  # clipped


def test_a_graph_recorded_run_gives_its_largest_margin_and_the_mean_of_its_kept_steps():
    document = record()["result"]
    # step 1: m 0.2 against M 0.1; step 2: m 0.8 against M 0.11 (scaled; the critic kept the m 0.3 candidate)
    assert run_margin(document) == pytest.approx(0.8 - 0.11)
    kept = [step["kept_uncertainty"] for step in document["steps"]]
    assert kept == pytest.approx([1.0, 0.2, 0.3])
    assert run_mean_uncertainty(document) == pytest.approx(sum(kept) / 3)


def test_each_gamma_counts_the_wrong_and_the_right_runs_on_which_the_gate_fires_somewhere():
    cell = [run(False, 0.1, 0.3), run(False, 0.1), run(True, 0.05), run(True)]  # the last: one step
    (row,) = gate_signal({"cot": cell})
    assert (row["right"], row["wrong"]) == (2, 2)
    # ln(1/γ): 0.693, 0.357, 0.223, 0.105, 0.051, 0 against the margins 0.3, 0.1 | 0.05, none
    assert dict(zip(GAMMAS, row["fires_wrong"], strict=True)) == {
        0.5: 0.0,
        0.7: 0.0,
        0.8: 50.0,
        0.9: 50.0,
        0.95: 100.0,
        1.0: 100.0,
    }
    assert dict(zip(GAMMAS, row["fires_right"], strict=True)) == {
        0.5: 0.0,
        0.7: 0.0,
        0.8: 0.0,
        0.9: 0.0,
        0.95: 0.0,
        1.0: 50.0,
    }
    assert row["margin_auroc"] is not None and row["margin_auroc"][0] == 1.0
    # mean m_t: wrong (0.2 + 0.2 + 0.4)/3, (0.2 + 0.2)/2 | right (0.2 + 0.15)/2, 0.2
    assert row["mean_auroc"] is not None and row["mean_auroc"][0] == pytest.approx(0.875)


def test_the_table_reads_wrong_over_right_per_gamma():
    (row,) = gate_signal({"cot": [run(False, 0.3), run(True, 0.0)]})
    line = signal_table([row]).splitlines()[2]
    assert line == (
        "| cot | 2 (1) | 1.00 [1.00, 1.00] | 1.00 [1.00, 1.00] "
        "| 0 / 0 | 0 / 0 | 100 / 0 | 100 / 0 | 100 / 0 | 100 / 0 |"
    )


def test_a_plain_cell_has_no_gate_but_its_mean_uncertainty_is_measured():
    plain = [run(False, first=0.3), run(True, first=0.1), run(True, first=0.2)]
    (row,) = gate_signal({"plain": plain})
    assert row["margin_auroc"] is None
    assert row["fires_wrong"] == row["fires_right"] == (None,) * len(GAMMAS)
    assert row["mean_auroc"] is not None and row["mean_auroc"][0] == 1.0
    assert "| plain | 3 (1) | — | 1.00 [" in signal_table([row])


def test_failed_ungraded_and_unrecorded_runs_are_left_out_and_one_sided_cells_have_no_auroc():
    unrecorded = run(True, 0.3)
    for step in unrecorded["result"]["steps"]:
        del step["uncertainty"]
    assert gate_signal({"old": [unrecorded], "failed": [run(False, 0.3, status="error")]}) == []
    (row,) = gate_signal({"all right": [run(True, 0.3), run(None, 0.3), run(True, 0.0)]})
    assert (row["right"], row["wrong"], row["margin_auroc"], row["mean_auroc"]) == (2, 0, None, None)
    assert row["fires_wrong"] == (None,) * len(GAMMAS)


def test_report_gate_prints_the_aim_table(tmp_path, capsys):
    from mur_graph.cli import main

    settings = {"mode": "cot", "method": "guided_search", "seed": 0, "temperature": 0.6}
    lines = []
    for number, (correct, margin) in enumerate([(False, 0.3), (True, 0.0), (True, 0.1)]):
        graded = run(correct, margin) | {
            "id": f"q{number}",
            "dataset": "toy",
            "answer": "1",
            "wall_time_s": 1.0,
        }
        graded["result"] |= {"n_scaled": 0, "totals": {"policy": 10, "critic": 0, "total": 10}}
        lines.append(json.dumps(graded | {"settings": settings}))
    path = tmp_path / "toy__guided_search__cot.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["report", str(path), "--gate"]) == 0
    out = capsys.readouterr().out
    assert "Does the gate point at the runs that end wrong? (AUROC 0.5: no aim)" in out
    assert "| 3 (1) | 1.00 [1.00, 1.00] |" in out and "| 100 / 0 | 100 / 0 | 100 / 50 | 100 / 50 |" in out
