"""The MUR math: step uncertainty, momentum and the γ gate (paper §3, spec §1.3–1.5).

Plain Python on purpose: no LangChain, no torch. Uncertainties are in nats per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_LOGPROB = -100.0
"""Floor for a token log-prob of -inf (a token the model gave probability 0, e.g. from a
post-processed distribution): counted as e^-100 so that m_t stays finite."""

LOGPROB_SLACK = 1e-6
"""Rounding above 0 tolerated in a log-prob (counted as 0); anything larger is not a log-prob."""


def is_logprob(value: float) -> bool:
    """Return whether `value` can be a token log-prob: not NaN and <= 0 (up to `LOGPROB_SLACK`)."""
    return not math.isnan(value) and value <= LOGPROB_SLACK


def step_uncertainty(token_logprobs: Sequence[float]) -> float:
    """Return m_t, the mean negative log-prob of a step's tokens: m_t = -(1/n) Σ_j log p(y_j).

    An empty step has m_t = 0 (the reference code's convention: maximal confidence). A log-prob
    of -inf is floored at `MIN_LOGPROB`; one above 0 by rounding (<= `LOGPROB_SLACK`) counts as
    0; NaN or a positive log-prob is a backend fault. Any other input gives a finite m_t >= 0.

    Raises:
        ValueError: a log-prob is NaN or greater than 0.
    """
    if not token_logprobs:
        return 0.0
    n = len(token_logprobs)
    total, largest = 0.0, 0.0
    for lp in token_logprobs:
        if not is_logprob(lp):
            msg = f"token log-prob {lp!r} is not a log-probability (must be a number <= 0)"
            raise ValueError(msg)
        # Rounding above 0 counts as 0; divided before summing, the mean stays near the scale of
        # the log-probs, but n terms near -max_float/n may still round past it.
        value = MIN_LOGPROB if lp == -math.inf else min(lp, 0.0)
        total += value / n
        largest = max(largest, -value)
    if math.isinf(total):  # the mean is at most the largest term, which is finite
        return largest
    return -total + 0.0  # + 0.0 turns -0.0 into 0.0


def update_momentum(previous: float, kept_uncertainty: float, alpha: float) -> float:
    """Return M_t = α·M_{t-1} + (1-α)·m̂_t, with m̂_t the uncertainty of the step finally kept."""
    return alpha * previous + (1.0 - alpha) * kept_uncertainty


def bias_corrected(momentum: float, alpha: float, steps_seen: int) -> float:
    """Return M_t / (1 - α^t): the Adam-style correction for a momentum started at 0.

    `steps_seen` is t, the number of updates folded into `momentum`; with none it returns 0.
    """
    if steps_seen <= 0:
        return 0.0
    return momentum / (1.0 - alpha**steps_seen)


def gate_threshold(previous_momentum: float, gamma: float) -> float:
    """Return the uncertainty above which a step is scaled: M_{t-1} + ln(1/γ).

    This is the log form of exp(m_t) > exp(M_{t-1})/γ; it never overflows.
    """
    return previous_momentum + math.log(1.0 / gamma)


def gate_fires(step_index: int, uncertainty: float, previous_momentum: float, gamma: float) -> bool:
    """Return whether MUR scales step t: t > 0 and m_t > M_{t-1} + ln(1/γ) (strictly).

    Step 0 is never gated: there is no momentum to compare it with yet.
    """
    return step_index > 0 and uncertainty > gate_threshold(previous_momentum, gamma)
