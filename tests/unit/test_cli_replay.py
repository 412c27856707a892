"""`mur-graph replay vote` and `replay savings`: stored results replayed, without a model."""

import json

from mur_graph.cli import main
from mur_graph.eval.replay import estimated_savings, record_cell_label, replay_vote


def voted_step(*texts_and_m):
    return {"candidates": [{"text": t, "uncertainty": m} for t, m in texts_and_m]}


def test_counts_steps_the_vote_decides_and_where_it_differs_from_confidence(tmp_path, capsys):
    steps = [
        voted_step(("x = 5.", 0.1), ("so x = 4.", 0.3), ("x = 4", 0.5)),  # vote: 1, confidence: 0
        voted_step(("x = 4.", 0.2), ("x = 4.", 0.1)),  # all agree equally: the fallback
        voted_step(("no claim", 0.1), ("none either", 0.2)),  # no agreement: the fallback
        voted_step(("only one candidate", 0.1)),  # not a choice
    ]
    records = [{"id": "q0", "status": "ok", "result": {"steps": steps}}, {"id": "q1", "status": "failed"}]
    path = tmp_path / "cell.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert replay_vote(records) == (3, 1, 1)
    assert main(["replay", "vote", str(path)]) == 0
    assert (
        capsys.readouterr().out
        == "cell.jsonl: 3 scaled steps, the vote decided 1 (33%), 1 unlike confidence\n"
    )


TOKENS = {"policy_step": 0, "draft_discarded": 0, "candidates": 0, "fallback": 0}


def step(text, *, draft=0, scaled=False, candidates=0, fallback=0):
    tokens = {**TOKENS, "fallback": fallback}
    if scaled:
        tokens |= {"draft_discarded": draft, "candidates": candidates}
    else:
        tokens["policy_step"] = draft
    return {"text": text, "scaled": scaled, "tokens": tokens}


def record(gamma, steps, *, replayed=None, wall=10.0):
    settings = {"method": "guided_search", "critic_kind": "confidence", "mode": "mur", "gamma": gamma}
    out = {"id": "q0", "status": "ok", "settings": settings, "wall_time_s": wall, "result": {"steps": steps}}
    return out | ({"replayed": replayed} if replayed else {})


def test_shared_steps_count_once_until_the_runs_diverge(tmp_path, capsys):
    kept_draft = [step("Step0: a", draft=5), step("Step1: b", draft=7)]
    scaled = [step("Step0: a", draft=5), step("Step1: c", draft=7, scaled=True, candidates=20, fallback=3)]
    records = [
        record(0.5, kept_draft, replayed={"calls": 0, "seconds": 0.0}, wall=12.0),
        record(0.9, scaled, replayed={"calls": 2, "seconds": 6.0}, wall=16.0),
    ]
    # counted 12 + 35; generated once: draft 0 (5), draft 1 (7), candidates (20), fallback (3)
    assert estimated_savings(records) == (2, 1, 47, 35)
    cot = record(None, kept_draft[:1]) | {"id": "q1"}
    cot["settings"] |= {"mode": "cot", "critic_kind": "generative"}  # CoT asks no critic
    assert record_cell_label(cot) == "guided_search cot"
    for number, r in enumerate(records):
        (tmp_path / f"{number}.jsonl").write_text(json.dumps(r) + "\n")
    assert main(["replay", "savings", str(tmp_path), "--estimate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("γ=0.5: 1 questions, 0 calls replayed, model time 12 s of 12 s charged (100%)")
    assert lines[1].endswith("γ=0.9: 1 questions, 2 calls replayed, model time 10 s of 16 s charged (62%)")
    assert lines[2:] == [
        "all: model time 22 s of 28 s charged (79%)",
        "estimate on the 1 questions all 2 cells hold: 35 of 47 counted tokens generated with one shared "
        "cache (74%)",
    ]
