"""`mur-graph report --gate`: how well the gate singles out the runs that end wrong, by hand."""

import json
import math

import pytest

from mur_graph.eval.gate_rates import GAMMAS
from mur_graph.eval.gate_signal import (
    auroc,
    auroc_interval,
    fired_effect,
    fired_table,
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


def test_report_gate_prints_the_aim_and_the_fired_tables(tmp_path, capsys):
    from mur_graph.cli import main

    cot = {"mode": "cot", "method": "guided_search", "seed": 0, "temperature": 0.6}
    mur = cot | {"mode": "mur", "gamma": 0.8, "critic_kind": "confidence"}
    paths = []
    # MUR scales on q0 (CoT wrong) and fixes it; elsewhere it follows CoT
    for settings, outcomes in (
        (cot, [(False, 0), (True, 0), (True, 0)]),
        (mur, [(True, 1), (True, 0), (True, 0)]),
    ):
        lines = []
        for number, ((correct, scaled), margin) in enumerate(zip(outcomes, [0.3, 0.0, 0.1], strict=True)):
            record = run(correct, margin) | {
                "id": f"q{number}",
                "dataset": "toy",
                "answer": "1",
                "wall_time_s": 1.0,
            }
            record["result"] |= {"n_scaled": scaled, "totals": {"policy": 10, "critic": 0, "total": 10}}
            lines.append(json.dumps(record | {"settings": settings}))
        paths.append(tmp_path / f"toy__guided_search__{settings['mode']}.jsonl")
        paths[-1].write_text("\n".join(lines) + "\n")
    assert main(["report", *map(str, paths), "--gate"]) == 0
    out = capsys.readouterr().out
    assert "The gate's aim, wrong runs against right ones (AUROC 0.5: none)" in out
    assert "| toy guided_search cot seed 0 | 3 (1) | 1.00 [1.00, 1.00] |" in out
    assert "| 100 / 0 | 100 / 0 | 100 / 50 | 100 / 50 |" in out
    assert "Where MUR's gate fired, against the CoT run of its seed:" in out
    assert "| toy guided_search confidence mur γ=0.8 seed 0 | 3 | 1 / 1 | 0 / 0 | 0 |" in out

    # the written report carries the tables the command printed
    written = tmp_path / "report.md"
    assert main(["report", *map(str, paths), "--gate", "--out", str(written)]) == 0
    text = written.read_text()
    assert "**The gate's aim, wrong runs against right ones (AUROC 0.5: none)**" in text
    assert "| toy guided_search confidence mur γ=0.8 seed 0 | 3 | 1 / 1 | 0 / 0 | 0 | — |" in text
    assert text.index("**The gate on the recorded steps**") < text.index("**Where MUR's gate fired")


def graded(correct: bool | None, scaled: int = 0) -> dict:
    return {"status": "ok", "correct": correct, "result": {"n_scaled": scaled}}


def key(
    mode: str, seed: int = 0, variant: tuple[str, ...] = ("fnatural",), gamma: float | None = None
) -> tuple:
    critic = "confidence" if mode == "mur" else None
    return ("math_500", "guided_search", critic, mode, gamma, variant, seed)


def test_where_the_gate_fired_counts_what_scaling_fixed_and_broke_against_the_cot_run_of_its_seed():
    cot = {"a": graded(False), "b": graded(False), "c": graded(True), "d": graded(True), "e": graded(False)}
    cot |= {"f": graded(True), "g": graded(None)}
    mur = {"a": graded(True, 2), "b": graded(False, 1), "c": graded(False, 1), "d": graded(True, 3)}
    mur |= {"e": graded(True, 0), "f": graded(True, 0), "g": graded(True, 1), "h": graded(True, 1)}
    (row,) = fired_effect({key("cot"): cot, key("mur", gamma=0.8): mur})
    # a: wrong → fired, fixed; b: wrong → fired, still wrong; c: right → fired, broken; d: right →
    # fired, kept; e: never fired yet differs; f: never fired, same; g: ungraded; h: no CoT run
    assert row == {
        "cell": "math_500 guided_search natural format confidence mur γ=0.8 seed 0",
        "questions": 6,
        "wrong_fired": 2,
        "fixed": 1,
        "right_fired": 2,
        "broken": 1,
        "differ_unfired": 1,
        "redraw_fixes": None,  # no other CoT seed
        "redraw_breaks": None,
    }
    assert fired_table([row]).splitlines()[2].endswith("| 6 | 2 / 1 | 2 / 1 | 1 | — |")


def test_the_other_seeds_cot_runs_say_what_a_fresh_run_would_fix_and_break():
    cot = {"a": graded(False), "b": graded(True), "c": graded(True)}
    mur = {"a": graded(True, 1), "b": graded(False, 1), "c": graded(True, 0)}
    one = {"a": graded(True), "b": graded(False), "c": graded(False)}
    two = {"a": graded(False), "b": graded(False)}
    cells = {key("cot"): cot, key("cot", seed=1): one, key("cot", seed=2): two, key("mur", gamma=0.8): mur}
    (row,) = fired_effect(cells)
    # a (wrong, fired): the others right 1 of 2 → 0.5 fixes; b (right, fired): wrong 2 of 2 → 1 break;
    # c never fired, so seed 2's missing run does not matter
    assert (row["redraw_fixes"], row["redraw_breaks"]) == (0.5, 1.0)
    assert fired_table([row]).splitlines()[2].endswith("| 3 | 1 / 1 | 1 / 1 | 0 | 0.5 / 1.0 |")
    del one["a"], two["a"]  # a fired question no other seed holds: no null
    (row,) = fired_effect(cells)
    assert (row["redraw_fixes"], row["redraw_breaks"]) == (None, None)


def test_a_mur_cell_pairs_only_with_the_cot_cell_of_its_seed_and_variant_less_the_reused_draft():
    cot = {"a": graded(False)}
    cells = {
        key("cot", seed=1): cot,
        key("cot", variant=("dT0", "fnatural")): cot,
        key("mur", gamma=0.8): {"a": graded(True, 1)},  # no seed-0 CoT of its variant
        key("mur", seed=1, gamma=0.8): {"a": graded(True, 1)},
        key("mur", variant=("dT0", "rd", "fnatural"), gamma=0.95): {"a": graded(True, 1)},
    }
    rows = fired_effect(cells)
    assert [(r["cell"], r["fixed"]) for r in rows] == [
        ("math_500 guided_search natural format confidence mur γ=0.8 seed 1", 1),
        ("math_500 guided_search drafts T=0 + draft reused natural format confidence mur γ=0.95 seed 0", 1),
    ]
