import math

import pytest

from mur_graph.uncertainty import (
    MIN_LOGPROB,
    bias_corrected,
    gate_fires,
    gate_threshold,
    step_uncertainty,
    update_momentum,
)


def test_step_uncertainty_is_the_mean_negative_logprob():
    assert step_uncertainty([-0.5, -1.5]) == 1.0
    assert step_uncertainty([-0.25, -0.25, -1.0]) == pytest.approx(0.5)


def test_empty_step_has_zero_uncertainty():
    assert step_uncertainty([]) == 0.0


def test_minus_infinity_is_floored_and_nan_rejected():
    assert step_uncertainty([-math.inf, 0.0]) == -MIN_LOGPROB / 2
    with pytest.raises(ValueError, match="not a log-probability"):
        step_uncertainty([-0.1, math.nan])
    with pytest.raises(ValueError, match="not a log-probability"):
        step_uncertainty([0.5])


def test_momentum_starts_at_zero_and_follows_the_ema():
    m0 = update_momentum(0.0, 1.0, 0.9)
    assert m0 == pytest.approx(0.1)
    m1 = update_momentum(m0, 0.2, 0.9)
    assert m1 == pytest.approx(0.9 * 0.1 + 0.1 * 0.2)  # 0.11


def test_threshold_is_momentum_plus_log_inverse_gamma():
    assert gate_threshold(0.1, 0.8) == pytest.approx(0.1 + 0.22314355131420976)
    assert gate_threshold(0.3, 1.0) == 0.3


def test_gate_is_strict_at_the_boundary():
    threshold = gate_threshold(0.11, 0.8)
    assert not gate_fires(3, threshold, 0.11, 0.8)
    assert gate_fires(3, math.nextafter(threshold, math.inf), 0.11, 0.8)
    # the exp form of the paper agrees away from the boundary
    m = 0.5
    assert gate_fires(1, m, 0.11, 0.8) == (math.exp(m) > math.exp(0.11) / 0.8)


def test_step_zero_is_never_gated():
    assert not gate_fires(0, 50.0, 0.0, 0.8)
    assert gate_fires(1, 50.0, 0.0, 0.8)


def test_bias_correction_divides_by_one_minus_alpha_to_the_t():
    assert bias_corrected(0.1, 0.9, 1) == pytest.approx(1.0)
    assert bias_corrected(0.19, 0.9, 2) == pytest.approx(0.19 / 0.19)
    assert bias_corrected(0.0, 0.9, 0) == 0.0
