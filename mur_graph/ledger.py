"""The token ledger: every generated token, booked by what it was generated for.

Kinds:
    policy_step: drafts that were kept as they were (the gate did not scale them).
    draft_discarded: drafts that tripped the gate and were replaced.
    candidates: every candidate sampled while scaling, the kept one and the discarded ones.
    revision: LLM-as-a-critic's revised steps.
    rollouts: φ-decoding's one-step foresight rollouts (the reference code forgets them).
    critic: every token the critic generated (verdicts, critiques).
    fallback: the final unstopped completion when no answer was reached.

A scaling method may declare kinds of its own (`register_scaling_method(..., ledger_kinds=...)`,
which calls `register_ledger_kind`); a run's ledger holds the kinds above, always, and a declared
kind once tokens were booked under it. A kind nobody declared is refused.

Prompt tokens are never booked: like the paper, the ledger counts generated tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

POLICY_KINDS = ("policy_step", "draft_discarded", "candidates", "revision", "rollouts", "fallback")
CRITIC_KINDS = ("critic",)
KINDS = POLICY_KINDS + CRITIC_KINDS
"""The kinds of the graph and its built-in methods: every ledger holds them (at zero or more)."""

LedgerSide = Literal["policy", "critic"]
"""Whose tokens a kind counts: the policy's or the critic's (`ledger_totals`)."""

_SIDES: dict[str, LedgerSide] = dict.fromkeys(POLICY_KINDS, "policy")
_SIDES.update(dict.fromkeys(CRITIC_KINDS, "critic"))

Ledger = dict[str, int]


def register_ledger_kind(kind: str, side: LedgerSide = "policy") -> None:
    """Let ledgers count `kind` (a scaling method's own tokens), as policy or critic tokens.

    Registering a known kind again on the same side does nothing.

    Raises:
        ValueError: `kind` is not a non-empty string, `side` is neither side, or the kind is
            already counted on the other side.
    """
    if not isinstance(kind, str) or not kind:
        msg = f"invalid ledger kind {kind!r}: must be a non-empty string"
        raise ValueError(msg)
    if side not in ("policy", "critic"):
        msg = f"ledger kind {kind!r}: side must be 'policy' or 'critic', got {side!r}"
        raise ValueError(msg)
    if _SIDES.get(kind, side) != side:
        msg = f"ledger kind {kind!r} already counts {_SIDES[kind]} tokens, not {side} ones"
        raise ValueError(msg)
    _SIDES[kind] = side


def ledger_kinds() -> tuple[str, ...]:
    """Every kind a ledger may hold: the built-in ones, then those methods declared."""
    return tuple(_SIDES)


def empty_ledger() -> Ledger:
    """Return a ledger with every built-in kind at zero."""
    return dict.fromkeys(KINDS, 0)


def add_ledgers(left: Mapping[str, int] | None, right: Mapping[str, int] | None) -> Ledger:
    """Return the kind-by-kind sum of two ledgers (the LangGraph reducer of the `ledger` key).

    Raises:
        KeyError: a kind no method declared.
    """
    total = empty_ledger()
    for part in (left or {}, right or {}):
        for kind, count in part.items():
            if kind not in _SIDES:
                msg = (
                    f"unknown ledger kind {kind!r}; known kinds: {', '.join(_SIDES)} "
                    "(a method declares its own with register_scaling_method(..., ledger_kinds=...))"
                )
                raise KeyError(msg)
            total[kind] = total.get(kind, 0) + count
    return total


def ledger_totals(ledger: Mapping[str, int]) -> dict[str, int]:
    """Return the policy, critic and overall totals of a ledger."""
    policy = sum(count for kind, count in ledger.items() if _SIDES.get(kind, "policy") == "policy")
    critic = sum(count for kind, count in ledger.items() if _SIDES.get(kind) == "critic")
    return {"policy": policy, "critic": critic, "total": policy + critic}
