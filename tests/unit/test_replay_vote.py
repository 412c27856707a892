"""benchmarks/replay_vote.py: the vote critic replayed on stored candidates, without a model."""

import json

from tests.scripts import load_script


def load():
    return load_script("benchmarks/replay_vote.py")


def step(*texts_and_m):
    return {"candidates": [{"text": t, "uncertainty": m} for t, m in texts_and_m]}


def test_counts_steps_the_vote_decides_and_where_it_differs_from_confidence(tmp_path, capsys):
    steps = [
        step(("x = 5.", 0.1), ("so x = 4.", 0.3), ("x = 4", 0.5)),  # vote: 1, confidence: 0
        step(("x = 4.", 0.2), ("x = 4.", 0.1)),  # all agree equally: the fallback
        step(("no claim", 0.1), ("none either", 0.2)),  # no agreement: the fallback
        step(("only one candidate", 0.1)),  # not a choice
    ]
    records = [{"id": "q0", "status": "ok", "result": {"steps": steps}}, {"id": "q1", "status": "failed"}]
    path = tmp_path / "cell.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    module = load()
    assert module.replay(records) == (3, 1, 1)
    assert module.main([str(path)]) == 0
    assert (
        capsys.readouterr().out
        == "cell.jsonl: 3 scaled steps, the vote decided 1 (33%), 1 unlike confidence\n"
    )
