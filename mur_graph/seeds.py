"""Seed coordinates: every kind of model call in a run draws its seed from its own number.

A call's seed is `derive_seed(run seed, step index, call kind, *more)`, so a seeded run is
reproducible and no two calls share a seed. Every call kind is listed here, and the numbers are
part of a seeded run's result: never renumber one. A new method takes a free number (8, or 10 on).
"""

from __future__ import annotations

DRAFT_CALL = 0
"""generate_step: the draft of step t."""
CANDIDATES_CALL = 1
"""The N candidates of a scaled step (guided search, φ-decoding)."""
CRITIC_CALL = 2
"""Guided search's generative critic: one verdict per candidate (`*more` = the candidate's index)."""
CRITIQUE_CALL = 3
"""LLM-as-a-critic: the critic's analysis of the draft."""
JUDGEMENT_CALL = 4
"""LLM-as-a-critic: the critic's Yes/No verdict after its analysis."""
REVISION_CALL = 5
"""LLM-as-a-critic: the policy's revision of a draft judged wrong."""
ROLLOUT_CALL = 6
"""φ-decoding: the one-step rollout after each candidate (`*more` = the candidate's index)."""
SELECTION_DRAW = 7
"""φ-decoding: the k-means seed and the draw of the kept candidate (not a model call)."""
FALLBACK_CALL = 9
"""finalize: the unstopped completion when no answer was reached."""


def derive_seed(base: int | None, *parts: int) -> int | None:
    """Return a per-call seed from the run's base seed and the call's coordinates, or None."""
    if base is None:
        return None
    value = base & 0xFFFFFFFF
    for part in parts:  # FNV-1a style mixing; stable across processes, unlike hash()
        value = ((value ^ (part & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
    return value
