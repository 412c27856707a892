"""The report's statistics, pinned to hand-computed values, and the paired, per-critic table."""

import pytest

from mur_graph.eval.report import format_cell, markdown_table, summarise
from mur_graph.eval.stats import (
    LineGap,
    Paired,
    critic_signal,
    line_gap,
    mcnemar_exact,
    paired,
    seed_sd,
    wilson_interval,
)


def test_wilson_interval_matches_hand_computed_values():
    # 7/10: centre (0.7 + z²/20)/(1 + z²/10) = 0.64449, half-width 0.24771
    assert wilson_interval(7, 10) == pytest.approx((0.3968, 0.8922), abs=1e-4)
    # 0/10: the interval starts at 0 and ends at (z²/10)/(1 + z²/10) = 0.27753
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(2, 2) == pytest.approx((0.3424, 1.0), abs=1e-4)
    with pytest.raises(ValueError, match="n >= 1"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="0 <= correct <= n"):
        wilson_interval(3, 2)


def test_mcnemar_is_an_exact_two_sided_binomial_test_on_the_discordant_pairs():
    assert mcnemar_exact(5, 1) == pytest.approx(2 * (1 + 6) / 64)  # 0.21875
    assert mcnemar_exact(1, 5) == mcnemar_exact(5, 1)
    assert mcnemar_exact(10, 0) == pytest.approx(2 / 1024)
    assert mcnemar_exact(3, 3) == 1.0  # 2 · 42/64 > 1 is capped
    assert mcnemar_exact(0, 0) == 1.0
    with pytest.raises(ValueError, match="must be >= 0"):
        mcnemar_exact(-1, 2)


def test_paired_counts_only_questions_both_rows_answered():
    a = {"q1": True, "q2": True, "q3": False, "q4": True}
    b = {"q1": False, "q2": True, "q3": True, "q5": False}
    assert paired(a, b) == Paired(questions=3, won=1, lost=1)


def step(scores, selected, scaled=True):
    candidates = [{"score": s} for s in scores]
    return {"scaled": scaled, "candidates": candidates, "selected": selected}


def test_line_gap_measures_a_row_against_the_cot_per_step_line_on_the_questions_all_three_answered():
    cot = {"q0": (False, 100), "q1": (True, 100)}  # (100 tokens, 50 %)
    per_step = {"q0": (True, 500), "q1": (True, 500), "q9": (False, 900)}  # (500, 100 %) on q0, q1
    row = {"q0": (True, 200), "q1": (False, 200), "q2": (True, 10)}
    assert line_gap(row, cot, per_step) == LineGap(questions=2, points=-12.5)  # 50 against 62.5
    cheap = {"q0": (True, 60), "q1": (False, 60)}
    assert line_gap(cheap, cot, per_step) == LineGap(2, 0.0)  # cheaper than CoT: CoT's 50 %
    dear = {"q0": (True, 700), "q1": (True, 700)}
    assert line_gap(dear, cot, per_step) == LineGap(2, 0.0)  # dearer than per-step: its 100 %
    assert line_gap({"q5": (True, 1)}, cot, per_step) is None


def test_critic_signal_counts_non_first_winners_and_the_median_spread_of_scaled_steps():
    records = [
        {
            "status": "ok",
            "result": {"steps": [step([0.2, 0.9], 1), step([0.5, 0.4], 0), step([], None, False)]},
        },
        {"status": "ok", "result": {"steps": [step([None, 0.3, 0.3], 1)]}},
        {"status": "failed", "error": "x"},
    ]
    signal = critic_signal(records)
    assert signal.steps == 3
    assert signal.not_first == pytest.approx(2 / 3)
    assert signal.median_spread == pytest.approx(0.1)  # spreads 0.7, 0.1, 0.0
    assert critic_signal([]).not_first is None


def record(qid, mode, correct, *, kind="generative", total=100, scores=(0.5, 0.5), selected=0, wall=2.0):
    steps = [step(list(scores), selected)] if mode != "cot" else []
    return {
        "id": qid,
        "dataset": "toy",
        "status": "ok",
        "correct": correct,
        "wall_time_s": wall,
        "settings": {"method": "guided_search", "mode": mode, "gamma": 0.8, "critic_kind": kind},
        "result": {
            "totals": {"policy": total - 10, "critic": 10, "total": total},
            "n_scaled": len(steps),
            "n_steps": 2,
            "steps": steps,
        },
    }


def test_rows_compare_mur_with_per_step_and_cot_question_by_question_per_critic():
    marks = {"cot": [0, 0, 1, 0], "per_step": [1, 0, 1, 0], "mur": [1, 1, 0, 1]}
    records = [
        record(f"q{i}", mode, bool(m), total=400 if mode == "mur" else 800)
        for mode, ms in marks.items()
        for i, m in enumerate(ms)
    ]
    # the cot run under another critic kind is the same row (CoT never asks a critic)
    records += [record("q0", "mur", True, kind="confidence", scores=(-0.2, -0.1), selected=1, wall=4.0)]
    rows = summarise(records)
    assert [(r["critic"], r["mode"]) for r in rows] == [
        (None, "cot"),
        ("confidence", "mur"),
        ("generative", "mur"),
        ("generative", "per_step"),
    ]
    cot, confidence, mur, per_step = rows
    assert mur["paired_per_step"] == Paired(questions=4, won=2, lost=1)
    assert mur["paired_cot"] == Paired(questions=4, won=3, lost=1)
    assert (
        per_step["paired_cot"] == Paired(questions=4, won=1, lost=0) and per_step["paired_per_step"] is None
    )
    assert cot["paired_cot"] is None and cot["critic"] is None and cot["not_first"] is None
    assert mur["vs_per_step"] == pytest.approx(0.5) and mur["accuracy"] == 75.0
    assert mur["not_first"] == 0.0 and mur["score_spread"] == 0.0
    assert confidence["questions"] == 1 and confidence["expected"] == 4
    assert confidence["paired_per_step"] is None  # no per-step row with this critic
    assert confidence["paired_cot"] == Paired(questions=1, won=1, lost=0)
    assert confidence["not_first"] == 1.0 and confidence["score_spread"] == pytest.approx(0.1)
    assert confidence["wall_s"] == 4.0
    table = markdown_table(rows)
    assert "| toy | guided_search | confidence | mur | 0.80 | — | partial (1 of 4) |" in table
    # CoT and per-step spent the same 800 tokens: the line is the better of the two, 50 %
    assert mur["line_gap"] == LineGap(questions=4, points=25.0)
    assert "| 2/1 (p=1) | 3/1 (p=0.62) | — | +25.0 pts | 0% | ≈0 (no signal) |" in table
    assert format_cell("accuracy", 75.0, mur) == "75.0 [30.1, 95.4]"
    assert summarise(records, questions=10)[2]["expected"] == 10


def test_critic_signal_counts_the_steps_the_lowest_m_t_fallback_decided():
    fell_back = {**step([0.0, 0.0, 0.0], 2), "selection": "logprob_fallback"}
    voted = {**step([1.0, 1.0, 0.0], 0), "selection": "vote"}
    signal = critic_signal([{"status": "ok", "result": {"steps": [fell_back, fell_back, voted]}}])
    assert signal.fallback == pytest.approx(2 / 3)
    assert signal.median_spread == 0.0  # the vote decided one step in three
    assert critic_signal([]).fallback is None


def test_calculator_runs_are_their_own_rows_compared_with_their_own_cot():
    plain = [record("q0", "cot", False), record("q0", "mur", False)]
    with_calculator = [record("q0", "cot", True), record("q0", "mur", True)]
    for r in with_calculator:
        r["settings"] = {**r["settings"], "calculator": True}
    rows = summarise(plain + with_calculator)
    assert [(r["method"], r["mode"], r["accuracy"]) for r in rows] == [
        ("guided_search", "cot", 0.0),
        ("guided_search", "mur", 0.0),
        ("guided_search + calculator", "cot", 100.0),
        ("guided_search + calculator", "mur", 100.0),
    ]
    assert rows[3]["paired_cot"] == Paired(questions=1, won=0, lost=0)
    assert format_cell("fallback", 0.25) == "25%"


def test_a_method_without_its_own_cot_row_is_compared_with_another_methods_cot():
    cot = [record("q0", "cot", False), record("q1", "cot", True)]
    phi = [record(q, "mur", True) for q in ("q0", "q1")]
    for r in phi:
        r["settings"] = {**r["settings"], "method": "phi_foresight", "gamma": 0.9}
    rows = summarise(cot + phi)
    (phi_row,) = [r for r in rows if r["method"] == "phi_foresight"]
    assert phi_row["paired_cot"] == Paired(questions=2, won=1, lost=0)


def test_common_keeps_only_the_questions_every_row_holds():
    cot = [record(f"q{i}", "cot", i % 2 == 0) for i in range(4)]
    per_step = [record(f"q{i}", "per_step", True, total=800) for i in range(3)]
    mur = [record(f"q{i}", "mur", i != 1, total=400) for i in (0, 1, 3)]
    rows = summarise(cot + per_step + mur, common=True)
    assert [(r["mode"], r["questions"], r["expected"]) for r in rows] == [
        ("cot", 2, 2),
        ("mur", 2, 2),
        ("per_step", 2, 2),
    ]
    cot_row, mur_row, per_step_row = rows
    assert cot_row["accuracy"] == 50.0  # q0 right, q1 wrong; q2 and q3 are not in every row
    assert mur_row["paired_per_step"] == Paired(questions=2, won=0, lost=1)
    assert per_step_row["total_tokens"] == 800
    assert [r["questions"] for r in summarise(cot + per_step + mur)] == [4, 3, 3]
    # the line from CoT (100 tokens, 50 %) to per-step (800, 100 %) is at 400 tokens 50 + 3/7 · 50
    assert mur_row["line_gap"] == LineGap(2, pytest.approx(50 - (50 + 300 / 700 * 50)))
    assert cot_row["line_gap"] is None and per_step_row["line_gap"] is None
    full = summarise(cot + per_step + mur)
    assert format_cell("line_gap", full[1]["line_gap"], full[1]) == "−21.4 pts on 2"
    assert "| −21.4 pts |" in markdown_table(rows)


def test_seed_sd_reads_each_questions_agreement_across_seeds():
    # on the common question a: right 2 of 3 → (2/3)(1/3)·3/2 = 1/3, so sd = 100·√(1/3) / 1
    outcomes = [{"a": True, "b": True}, {"a": True, "b": False}, {"a": False}]
    assert seed_sd(outcomes) == pytest.approx(100 * (1 / 3) ** 0.5)
    # questions every seed gets right or wrong add nothing
    assert seed_sd([{"a": True, "b": False}, {"a": True, "b": False}]) == 0.0
    assert seed_sd([{"a": True}]) is None
    assert seed_sd([{"a": True}, {"b": True}]) is None
