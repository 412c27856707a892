"""`mur-graph report --gate`: the gate's ruling at other γ on recorded steps, checked by hand."""

import json

import pytest

from mur_graph import create_mur_graph
from mur_graph.eval.gate_rates import GAMMAS, gate_rates, gate_table
from tests.fakes import ScriptedChatModel, prompted, say, verdict

SCRIPT = [
    [say("Let s be the sum.", -1.0, -1.0)],  # step 0: m 1.0, never gated; M 0.1 after it
    [say("17 + 25 = 42.", -0.2, -0.2, -0.2)],  # step 1: m 0.2 against M 0.1; M 0.11 after it
    [say("So it is 41.", -1.0, -0.6)],  # step 2: m 0.8 against M 0.11 -> scaled at γ 0.8
    [say("The answer is 41.", -0.5, -0.5, -0.5), say("The answer is 42.", -0.3, -0.3)],
    [verdict(0.2)],
    [verdict(0.9)],
]


def record(*, mode: str = "mur", bias_correction: bool = False) -> dict:
    """A results record of the scripted run at γ 0.8 (the steps as the graph recorded them).

    MUR scales step 2 (two candidates, two verdicts); CoT keeps its draft, which states the answer.
    """
    script = SCRIPT if mode == "mur" else [*SCRIPT[:2], [say("So the answer is 41.", -1.0, -0.6)]]
    model = ScriptedChatModel(script=[list(call) for call in script])
    config = prompted(mode=mode, candidates=2, gamma=0.8, alpha=0.9, bias_correction=bias_correction)
    state = create_mur_graph(model, config=config).invoke({"question": "What is 17 + 25?"})
    steps = state["steps"]
    return {"status": "ok", "result": {"steps": steps, "n_steps": len(steps)}, "correct": True}


def test_each_gamma_rules_on_the_recorded_uncertainty_and_momentum():
    (row,) = gate_rates({"mur": [record()]})
    assert (row["questions"], row["steps"], row["gated"]) == (1, 3.0, 2)
    assert row["median"] == pytest.approx(0.8)  # m_t of the three drafts: 1.0, 0.2, 0.8
    # margins ln(1/γ): 0.693, 0.357, 0.223, 0.105, 0.051, 0. Step 1 (m 0.2, M 0.1) fires from
    # γ 0.95 on (0.2 > 0.151), step 2 (m 0.8, M 0.11) from γ 0.7 on (0.8 > 0.467, not > 0.803).
    assert dict(zip(GAMMAS, row["fires"], strict=True)) == {
        0.5: 0.0,
        0.7: 50.0,
        0.8: 50.0,
        0.9: 50.0,
        0.95: 100.0,
        1.0: 100.0,
    }


@pytest.mark.parametrize(
    ("mode", "bias_correction", "fired"), [("mur", False, 50.0), ("cot", False, 50.0), ("cot", True, 0.0)]
)
def test_at_the_runs_own_gamma_the_table_agrees_with_the_recorded_gate(mode, bias_correction, fired):
    # bias-corrected, step 2 compares m 0.8 with M 0.11 / (1 − 0.9²) = 0.579: 0.8 < 0.579 + 0.223
    run = record(mode=mode, bias_correction=bias_correction)
    gated = [step for step in run["result"]["steps"] if step["index"] > 0]
    (row,) = gate_rates({mode: [run]})
    recorded = 100.0 * sum(step["gate_fired"] for step in gated) / len(gated)
    assert row["fires"][GAMMAS.index(0.8)] == pytest.approx(recorded) == fired


def test_runs_without_a_recorded_gate_and_failed_runs_make_no_row():
    old = record()
    for step in old["result"]["steps"]:
        del step["momentum_before"]
    failed = {"status": "error", "result": None}
    assert gate_rates({"old": [old], "failed": [failed]}) == []


def test_a_single_step_cell_has_no_gated_step_and_says_so():
    run = record()
    run["result"]["steps"] = run["result"]["steps"][:1]
    (row,) = gate_rates({"one step": [run]})
    assert row["gated"] == 0 and row["fires"] == (None,) * len(GAMMAS) and row["p90"] is None
    assert "| one step | 1 | 3.0 | 0 | 1.000 | — | — |" in gate_table([row])


def test_report_gate_prints_the_table(tmp_path, capsys):
    from mur_graph.cli import main

    run = record() | {
        "id": "q1",
        "dataset": "toy",
        "answer": "42",
        "wall_time_s": 1.0,
        "settings": {"mode": "mur", "method": "guided_search", "gamma": 0.8, "seed": 0, "temperature": 0.6},
    }
    run["result"] |= {"n_scaled": 1, "totals": {"policy": 10, "critic": 4, "total": 14}}
    path = tmp_path / "toy__guided_search__mur__g0.8.jsonl"
    path.write_text(json.dumps(run) + "\n")
    assert main(["report", str(path), "--gate"]) == 0
    out = capsys.readouterr().out
    assert "| cell | n | steps/q | gated steps | m_t median | m_t 90th pct | fires at γ 0.5 % |" in out
    assert "| 1 | 3.0 | 2 | 0.800 |" in out and "| 0.0 | 50.0 | 50.0 | 50.0 | 100.0 | 100.0 |" in out
