"""The token ledger: every generated token, booked by what it was generated for.

Kinds:
    policy_step: drafts that were kept as they were (the gate did not scale them).
    draft_discarded: drafts that tripped the gate and were replaced.
    candidates: every candidate sampled while scaling, the kept one and the discarded ones.
    revision: LLM-as-a-critic's revised steps.
    rollouts: φ-decoding's one-step foresight rollouts (the reference code forgets them).
    critic: every token the critic generated (verdicts, critiques).
    fallback: the final unstopped completion when no answer was reached.

Prompt tokens are never booked: like the paper, the ledger counts generated tokens.
"""

from __future__ import annotations

from collections.abc import Mapping

POLICY_KINDS = ("policy_step", "draft_discarded", "candidates", "revision", "rollouts", "fallback")
CRITIC_KINDS = ("critic",)
KINDS = POLICY_KINDS + CRITIC_KINDS

Ledger = dict[str, int]


def empty_ledger() -> Ledger:
    """Return a ledger with every kind at zero."""
    return dict.fromkeys(KINDS, 0)


def add_ledgers(left: Mapping[str, int] | None, right: Mapping[str, int] | None) -> Ledger:
    """Return the kind-by-kind sum of two ledgers (the LangGraph reducer of the `ledger` key)."""
    total = empty_ledger()
    for part in (left or {}, right or {}):
        for kind, count in part.items():
            if kind not in total:
                msg = f"unknown ledger kind {kind!r}; known kinds: {', '.join(KINDS)}"
                raise KeyError(msg)
            total[kind] += count
    return total


def ledger_totals(ledger: Mapping[str, int]) -> dict[str, int]:
    """Return the policy, critic and overall totals of a ledger."""
    policy = sum(ledger.get(kind, 0) for kind in POLICY_KINDS)
    critic = sum(ledger.get(kind, 0) for kind in CRITIC_KINDS)
    return {"policy": policy, "critic": critic, "total": policy + critic}
