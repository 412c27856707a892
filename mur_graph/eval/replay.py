"""What stored results show without a model: the `vote` critic replayed, the call cache's savings.

Every scaled step of guided search keeps its N candidates' texts and m_t, so how the `vote`
critic would choose among them can be measured on any run, whatever critic chose then. Records
made with a call cache carry `replayed` (calls and seconds served from it); for runs made without
one, the tokens a shared cache would have saved are estimated from the kept steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from mur_graph.eval.report import critic_label
from mur_graph.scaling import get_critic_kind, vote_counts
from mur_graph.state import FALLBACK_SELECTION, Candidate

Record = dict[str, Any]


def replay_vote(records: Iterable[Record]) -> tuple[int, int, int]:
    """(scaled steps with candidates, steps the vote decided, steps it kept another than confidence)."""
    vote, confidence = get_critic_kind("vote"), get_critic_kind("confidence")
    steps = decided = other = 0
    for record in records:
        if record["status"] != "ok":
            continue
        for step in record["result"]["steps"]:
            candidates = step.get("candidates", [])
            if len(candidates) < 2:
                continue
            steps += 1
            scored = [{**c, "score": s} for c, s in zip(candidates, vote_counts(candidates), strict=True)]
            chosen, selection = vote.choose(cast(list[Candidate], scored))  # the records' candidates
            decided += selection != FALLBACK_SELECTION
            other += chosen != confidence.choose(candidates)[0]
    return steps, decided, other


def measured_savings(records: Iterable[Record]) -> dict[str, dict[str, float]]:
    """Per cell: questions, calls and seconds replayed from the call cache, and wall seconds charged."""
    cells: dict[str, dict[str, float]] = {}
    for record in records:
        if record.get("status") != "ok" or "replayed" not in record:
            continue
        cell = cells.setdefault(
            record_cell_label(record), {"questions": 0, "calls": 0, "replayed_s": 0.0, "wall_s": 0.0}
        )
        cell["questions"] += 1
        cell["calls"] += record["replayed"]["calls"]
        cell["replayed_s"] += record["replayed"]["seconds"]
        cell["wall_s"] += record["wall_time_s"]
    return cells


def step_calls(steps: list[Record]) -> list[tuple[tuple[str, str], int]]:
    """The generating calls of one run as ((kept steps before, kind), tokens).

    A step's calls are keyed by the steps kept before it and the call's kind (draft, candidates,
    fallback), as the cache keys them by prompt and seed: runs that kept the same steps make the
    same calls. Critic calls are not counted (the confidence critic makes none).
    """
    calls = []
    kept = ""
    for step in steps:
        tokens = step["tokens"]
        if step["scaled"]:
            calls.append(((kept, "draft"), tokens["draft_discarded"]))
            calls.append(((kept, "candidates"), tokens["candidates"] + tokens["policy_step"]))
        else:
            calls.append(((kept, "draft"), tokens["policy_step"]))
        if tokens["fallback"]:
            calls.append(((kept, "fallback"), tokens["fallback"]))
        kept += step["text"] + "\n"
    return calls


def estimated_savings(records: Iterable[Record]) -> tuple[int, int, int, int]:
    """On the questions every cell holds: (cells, questions, tokens counted, tokens a shared cache makes)."""
    by_cell: dict[str, dict[str, Record]] = {}
    for record in records:
        if record.get("status") == "ok":
            by_cell.setdefault(record_cell_label(record), {})[record["id"]] = record
    if not by_cell:
        return 0, 0, 0, 0
    common = set.intersection(*(set(ids) for ids in by_cell.values()))
    counted = generated = 0
    for question in common:
        seen: set[tuple[str, str]] = set()
        for cell in by_cell.values():
            for key, tokens in step_calls(cell[question]["result"]["steps"]):
                counted += tokens
                if key not in seen:
                    seen.add(key)
                    generated += tokens
    return len(by_cell), len(common), counted, generated


def record_cell_label(record: Record) -> str:
    """A record's cell as words, e.g. `guided_search confidence mur γ=0.8`."""
    settings = record["settings"]
    critic = critic_label(settings)
    gamma = f" γ={settings['gamma']:g}" if settings["mode"] == "mur" else ""
    return " ".join([settings["method"], *([critic] if critic else []), settings["mode"]]) + gamma
