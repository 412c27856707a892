"""benchmarks/replay_savings.py: replayed calls measured from records, shared calls estimated."""

import json

from tests.scripts import load_script

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
    module = load_script("benchmarks/replay_savings.py")
    kept_draft = [step("Step0: a", draft=5), step("Step1: b", draft=7)]
    scaled = [step("Step0: a", draft=5), step("Step1: c", draft=7, scaled=True, candidates=20, fallback=3)]
    records = [
        record(0.5, kept_draft, replayed={"calls": 0, "seconds": 0.0}, wall=12.0),
        record(0.9, scaled, replayed={"calls": 2, "seconds": 6.0}, wall=16.0),
    ]
    # counted 12 + 35; generated once: draft 0 (5), draft 1 (7), candidates (20), fallback (3)
    assert module.estimated(records) == (2, 1, 47, 35)
    cot = record(None, kept_draft[:1]) | {"id": "q1"}
    cot["settings"] |= {"mode": "cot", "critic_kind": "generative"}  # CoT asks no critic
    assert module._cell(cot) == "guided_search cot"
    for number, r in enumerate(records):
        (tmp_path / f"{number}.jsonl").write_text(json.dumps(r) + "\n")
    assert module.main([str(tmp_path), "--estimate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("γ=0.5: 1 questions, 0 calls replayed, model time 12 s of 12 s charged (100%)")
    assert lines[1].endswith("γ=0.9: 1 questions, 2 calls replayed, model time 10 s of 16 s charged (62%)")
    assert lines[2:] == [
        "all: model time 22 s of 28 s charged (79%)",
        "estimate on the 1 questions all 2 cells hold: 35 of 47 counted tokens generated with one shared "
        "cache (74%)",
    ]
