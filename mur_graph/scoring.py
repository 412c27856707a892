"""Reading a critic's verdict: the probability of "Yes" from its log-probs (spec §2.1)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

_STRIP = " \t\n\r*_{}$\\:.'\"`()[]"


def verdict_word(token: str) -> str | None:
    """Return "yes" or "no" when a token spells that verdict (any case, markup stripped)."""
    word = token.strip(_STRIP).lower()
    return word if word in ("yes", "no") else None


def yes_probability(top_logprobs: Sequence[Mapping[str, float]]) -> float | None:
    """Return P(Yes) / (P(Yes) + P(No)) at the first position where the critic says Yes or No.

    `top_logprobs` holds, per generated position, the most likely tokens and their log-probs.
    The first position whose alternatives include a Yes or No token is the verdict slot; the
    probabilities of all spellings there are summed. Returns None when no position carries a
    verdict (the caller then falls back to ranking by the candidates' own log-probs).
    """
    for alternatives in top_logprobs:
        mass = {"yes": 0.0, "no": 0.0}
        for token, logprob in alternatives.items():
            word = verdict_word(token)
            if word is not None and math.isfinite(logprob):
                mass[word] += math.exp(logprob)
        total = mass["yes"] + mass["no"]
        if total > 0.0:
            return mass["yes"] / total
    return None
