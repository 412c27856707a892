"""Seeds in the report: one row per seed, the spread across seeds, self-consistency, plain baselines."""

import json
import math

import pytest

from mur_graph.eval.consistency import mean_uncertainty, vote
from mur_graph.eval.plots import panels, plot_sweep
from mur_graph.eval.report import report_markdown, seed_spreads, summarise


def run(qid, mode, answer, correct, *, seed=0, m=(0.5,), total=100, temperature=0.6, scaled=False):
    """One record: `m` is each kept step's uncertainty."""
    steps = [
        {"uncertainty": u, "kept_uncertainty": u, "scaled": scaled, "candidates": [], "selected": None}
        for u in m
    ]
    return {
        "id": qid,
        "dataset": "toy",
        "status": "ok",
        "answer": answer,
        "correct": correct,
        "wall_time_s": 1.0,
        "settings": {
            "mode": mode,
            "method": "guided_search",
            "gamma": 0.8,
            "seed": seed,
            "temperature": temperature,
            "critic_kind": "confidence",
        },
        "result": {
            "n_steps": len(steps),
            "n_scaled": sum(scaled for _ in steps),
            "steps": steps,
            "totals": {"policy": total, "critic": 0, "total": total},
        },
    }


def test_the_majority_answer_wins_and_equal_answers_in_other_forms_vote_together():
    runs = [
        run("q", "cot", "\\frac{1}{2}", True, m=(0.9,)),
        run("q", "cot", "0.5", True, m=(0.8,)),
        run("q", "cot", "3", False, m=(0.1,)),
    ]
    outcome = vote(runs)
    assert outcome.correct and outcome.tokens == 300
    # weighted: exp(-0.1) = 0.905 for "3" against exp(-0.9) + exp(-0.8) = 0.856 for 1/2
    assert math.exp(-0.1) > math.exp(-0.9) + math.exp(-0.8)
    assert not vote(runs, weighted=True).correct


def test_a_tie_goes_to_the_surer_group_and_runs_without_an_answer_do_not_vote():
    runs = [
        run("q", "cot", "4", False, m=(0.6, 0.4)),  # m̄ 0.5
        run("q", "cot", "5", True, m=(0.3,)),  # m̄ 0.3: surer
        run("q", "cot", None, False, m=(0.01,)),
    ]
    assert mean_uncertainty(runs[0]) == pytest.approx(0.5)
    assert vote(runs).correct
    assert not vote([run("q", "cot", None, False)]).correct


def test_seeds_get_rows_of_their_own_an_across_seeds_spread_and_self_consistency_rows():
    answers = {  # question -> the answer of seeds 0..4 (the reference is "1")
        "q1": ["1", "1", "2", "1", "2"],
        "q2": ["2", "2", "1", "3", "1"],
    }
    records = [
        run(qid, "cot", answer, answer == "1", seed=seed, total=10 * (seed + 1))
        for qid, seeds in answers.items()
        for seed, answer in enumerate(seeds)
    ]
    rows = summarise(records)
    cot = [r for r in rows if r["mode"] == "cot"]
    assert [r["seed"] for r in cot] == [0, 1, 2, 3, 4]
    assert [r["accuracy"] for r in cot] == [50.0, 50.0, 50.0, 50.0, 50.0]
    sc3 = next(r for r in rows if r["mode"] == "cot SC@3")
    # seeds 0-2: q1 votes 1,1,2 -> right; q2 votes 2,2,1 -> wrong; tokens 10+20+30
    assert (sc3["accuracy"], sc3["total_tokens"], sc3["seed"]) == (50.0, 60.0, "0–2")
    sc5 = next(r for r in rows if r["mode"] == "cot SC@5")
    # q1: 1,1,2,1,2 -> 1 right; q2: 2,2,1,3,1 -> a 2-2 tie, equally sure: either way one right
    assert (sc5["accuracy"], sc5["total_tokens"]) == (50.0, 150.0)
    assert sc5["paired_cot"] is not None  # compared with seed 0's CoT, question by question
    (spread,) = seed_spreads(rows)
    assert (spread["seeds"], spread["mean"], spread["spread"]) == ("0, 1, 2, 3, 4", 50.0, 0.0)
    # the totals agree by construction, but each question is a coin: q1 right 3 of 5, q2 2 of 5,
    # each p̂(1 − p̂)·5/4 = 0.3, so one seed's accuracy varies with sd √0.6 / 2
    assert spread["seed_sd"] == pytest.approx(100 * math.sqrt(0.6) / 2)
    assert "**Across seeds**" in report_markdown(rows)
    assert "| sd (pts) | sd, per question (pts) | max − min (pts) |" in report_markdown(rows)


def test_a_seeds_mur_row_is_paired_with_the_cot_row_of_its_own_seed():
    records = [
        run("q1", "cot", "1", True, seed=0),
        run("q2", "cot", "2", False, seed=0),
        run("q1", "cot", "2", False, seed=1),
        run("q2", "cot", "2", False, seed=1),
        run("q1", "mur", "1", True, seed=1),
        run("q2", "mur", "1", True, seed=1),
    ]
    (mur,) = [r for r in summarise(records) if r["mode"] == "mur"]
    assert (mur["paired_cot"].won, mur["paired_cot"].lost) == (2, 0)  # seed 1's CoT, not seed 0's (1, 0)
    assert mur["cot_seed"] == 1


def test_across_seeds_sums_each_seeds_pairs_with_the_cot_of_its_own_seed_only():
    cot = {0: ("1", "2"), 1: ("2", "2")}  # CoT seeds 0 and 1: q1, q2 answers (the reference is "1")
    records = [
        run(q, "cot", a, a == "1", seed=s)
        for s, answers in cot.items()
        for q, a in zip(("q1", "q2"), answers, strict=True)
    ]
    mur = {0: ("2", "1"), 1: ("1", "1"), 2: ("1", "2")}  # seed 2 has no CoT of its own
    records += [
        run(q, "mur", a, a == "1", seed=s)
        for s, answers in mur.items()
        for q, a in zip(("q1", "q2"), answers, strict=True)
    ]
    rows = summarise(records)
    seed2 = next(r for r in rows if r["mode"] == "mur" and r["seed"] == 2)
    assert seed2["cot_seed"] == 0  # paired with seed 0's CoT as a stand-in ...
    spreads = {r["mode"]: r for r in seed_spreads(rows)}
    # ... which the sum leaves out: seed 0 won q2 and lost q1, seed 1 won both
    assert spreads["mur"]["vs_cot"] == "3/1 of 4" and spreads["cot"]["vs_cot"] is None
    assert "| 3/1 of 4 |" in report_markdown(rows)


def test_every_row_is_paired_with_the_plain_greedy_row():
    records = [
        run("q1", "plain", "1", True, temperature=0.0),
        run("q2", "plain", "1", True, temperature=0.0),
        run("q1", "plain", "1", True),
        run("q2", "plain", "2", False),
        run("q1", "cot", "2", False),
        run("q2", "cot", "1", True),
    ]
    rows = summarise(records)
    by_label = {(r["mode"], r["method"]): r for r in rows}
    greedy = by_label[("plain", "guided_search T=0")]
    assert greedy["paired_plain"] is None
    assert (greedy["paired_cot"].won, greedy["paired_cot"].lost) == (1, 0)  # the CoT without a variant
    sampled = by_label[("plain", "guided_search")]
    assert (sampled["paired_plain"].won, sampled["paired_plain"].lost) == (0, 1)
    cot = by_label[("cot", "guided_search")]
    assert (cot["paired_plain"].won, cot["paired_plain"].lost) == (0, 1)
    assert rows[0]["mode"] == "plain"  # plain rows open the table


def test_plain_and_self_consistency_rows_are_drawn_in_the_panels_not_as_panels_of_their_own(tmp_path):
    records = [run(q, "cot", "1", True, seed=s) for q in ("q1", "q2") for s in range(3)]
    records += [run(q, "plain", "1", True, temperature=0.0) for q in ("q1", "q2")]
    records += [run(q, "mur", "1", True, scaled=True, seed=s) for q in ("q1", "q2") for s in (0, 1)]
    rows = summarise(records)
    assert {r["mode"] for r in rows} >= {"plain", "cot SC@3", "mur"}
    assert panels(rows) == [("toy", "guided_search", "confidence")]
    written = plot_sweep(rows, tmp_path / "sweep")
    assert [p.suffix for p in written] == [".png", ".svg"]
    svg = (tmp_path / "sweep.svg").read_text()
    assert "plain T=0" in svg and "cot SC@3" in svg
    # seeds 1 and 2 of CoT and seed 1 of MUR: hollow points beside the curve, each named by its seed
    assert "CoT, other seeds" in svg and "MUR, other seeds" in svg and "per-step, other seeds" not in svg
    assert svg.count("<!-- s1 -->") == 2 and svg.count("<!-- s2 -->") == 1


def test_unseeded_runs_are_a_seed_of_their_own_shown_as_a_dash_and_never_voted_over():
    records = [run(q, "cot", "1", True, seed=s) for q in ("q1", "q2") for s in (None, 1, 2)]
    records += [run(q, "mur", "1", True, seed=None) for q in ("q1", "q2")]
    rows = summarise(records)
    assert [r["seed"] for r in rows if r["mode"] == "cot"] == [1, 2, None]
    (mur,) = [r for r in rows if r["mode"] == "mur"]
    assert mur["paired_cot"].questions == 2  # paired with the unseeded CoT
    assert not [r for r in rows if "SC@" in r["mode"]]  # two seeded runs: no SC@3
    assert "| mur | 0.80 | — |" in report_markdown(rows)


def test_endings_count_cut_steps_fallbacks_and_missing_answers_with_their_accuracy():
    from mur_graph.eval.endings import endings, endings_table

    cut = run("q1", "cot", "1", True)
    cut["result"]["steps"][0]["draft_finish_reason"] = "length"
    fallback = run("q2", "cot", None, False)
    fallback["result"]["fallback"] = {"text": "…", "n_tokens": 5, "finish_reason": "length"}
    clean = [run("q3", "cot", "1", True), run("q4", "cot", "2", False)]
    (row,) = endings({"cot": [cut, fallback, *clean]})
    assert (row["questions"], row["accuracy"]) == (4, 50.0)
    assert (row["cut"], row["fallback"], row["no_answer"], row["clean"]) == (
        (1, 100.0),
        (1, 0.0),
        1,
        (2, 50.0),
    )
    assert "| cot | 4 | 50.0 | 1.0 | 1 (100 %) | 1 (0 %) | 1 | 2 (50 %) |" in endings_table([row])


def test_report_endings_prints_how_each_cells_runs_ended(tmp_path, capsys):
    from mur_graph.cli import main

    path = tmp_path / "toy__guided_search__cot.jsonl"
    path.write_text("".join(json.dumps(run(q, "cot", "1", True)) + "\n" for q in ("q1", "q2")))
    assert main(["report", str(path), "--endings"]) == 0
    assert "| toy guided_search cot seed 0 | 2 | 100.0 |" in capsys.readouterr().out


def test_a_partial_seed_is_left_out_of_the_spread_across_seeds_and_named():
    answers = {0: ("1", "1", "2"), 1: ("1", "2", "2"), 2: ("2", "2", "2"), 3: ("1",)}  # seed 3 partial
    records = [
        run(q, "cot", a, a == "1", seed=s)
        for s, seed_answers in answers.items()
        for q, a in zip(("q1", "q2", "q3"), seed_answers, strict=False)
    ]
    (spread,) = seed_spreads(summarise(records))
    # seed 3's 100 % is over q1 alone; the mean is over seeds 0-2's 66.7 / 33.3 / 0
    assert spread["seeds"] == "0, 1, 2 (3 partial, left out)"
    assert spread["mean"] == pytest.approx(100 / 3) and spread["questions"] == 3
    # with common questions (q1 only) no seed is partial: all four count
    (common,) = seed_spreads(summarise(records, common=True))
    assert (common["seeds"], common["accuracies"]) == ("0, 1, 2, 3", "100.0 / 100.0 / 0.0 / 100.0")


def test_no_across_seeds_row_while_fewer_than_two_seeds_are_complete():
    records = [run("q1", "cot", "1", True, seed=0), run("q2", "cot", "1", True, seed=0)]
    records.append(run("q1", "cot", "1", True, seed=1))
    assert seed_spreads(summarise(records)) == []


def test_a_mur_cell_with_three_seeds_gets_its_own_self_consistency_row():
    mur = {0: ("1", "2"), 1: ("1", "1"), 2: ("2", "1")}  # q1, q2 answers per seed (the reference is "1")
    records = [
        run(q, "mur", a, a == "1", seed=s, total=50, scaled=True)
        for s, answers in mur.items()
        for q, a in zip(("q1", "q2"), answers, strict=True)
    ]
    records += [run("q1", "cot", "2", False), run("q2", "cot", "2", False)]
    rows = summarise(records)
    (sc3,) = [r for r in rows if r["mode"] == "mur SC@3"]
    # q1 votes 1,1,2 and q2 votes 2,1,1: both right; three runs of 50 tokens each
    assert (sc3["accuracy"], sc3["total_tokens"], sc3["seed"]) == (100.0, 150.0, "0–2")
    assert (sc3["critic"], sc3["gamma"]) == ("confidence", 0.8)
    assert (sc3["paired_cot"].won, sc3["paired_cot"].lost) == (2, 0)
    assert sc3["line_gap"] is None and not [r for r in rows if r["mode"] == "mur SC@5"]


def test_a_weighted_vote_on_its_majoritys_point_is_drawn_once_and_plain_seeds_beside_the_curve(tmp_path):
    records = [run(q, "cot", "1", True, seed=s) for q in ("q1", "q2") for s in range(3)]
    records += [run(q, "plain", "1", True, seed=s) for q in ("q1", "q2") for s in (0, 1)]
    records += [run(q, "mur", "1", True, scaled=True) for q in ("q1", "q2")]
    plot_sweep(summarise(records), tmp_path / "sweep")
    svg = (tmp_path / "sweep.svg").read_text()

    assert "cot SC@3 (= weighted)" in svg and "cot SC@3 weighted" not in svg
    assert "plain, other seeds" in svg
