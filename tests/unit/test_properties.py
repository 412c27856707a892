"""Property-based tests (hypothesis) of the settings and the uncertainty math."""

import math
from dataclasses import fields

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration

from mur_graph import MURConfig
from mur_graph.answers import answer_is_closed, extract_answer, has_answer
from mur_graph.models.contract import InvalidLogprobsError, read_generation
from mur_graph.uncertainty import (
    MIN_LOGPROB,
    bias_corrected,
    gate_fires,
    gate_threshold,
    step_uncertainty,
    update_momentum,
)
from tests.fakes import ScriptedChatModel

logprob = st.floats(max_value=0.0, allow_nan=False, allow_infinity=False)
logprob_or_minus_inf = st.one_of(logprob, st.just(-math.inf))
uncertainty = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
alpha = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
gamma = st.floats(min_value=0.0, max_value=1.0, exclude_min=True)


@given(st.lists(logprob_or_minus_inf, max_size=64))
@example([-1.7976931348623157e308] * 3)  # found by hypothesis: n terms of -max/n summed past -max
def test_any_finite_or_minus_inf_logprobs_give_a_finite_non_negative_uncertainty(logprobs):
    m = step_uncertainty(logprobs)
    assert math.isfinite(m) and m >= 0.0
    floored = [max(lp, MIN_LOGPROB) if lp == -math.inf else lp for lp in logprobs]
    if floored:
        low, high = min(-lp for lp in floored), max(-lp for lp in floored)
        assert low * (1 - 1e-12) - 1e-12 <= m <= high * (1 + 1e-12) + 1e-12  # up to rounding


@given(st.lists(st.floats(), min_size=1, max_size=16))
def test_any_float_logprobs_give_a_finite_uncertainty_or_a_clear_error(logprobs):
    try:
        m = step_uncertainty(logprobs)
    except ValueError as error:
        assert "is not a log-probability" in str(error)
        assert any(math.isnan(lp) or lp > 1e-6 for lp in logprobs)
    else:
        assert math.isfinite(m) and m >= 0.0


@given(uncertainty, uncertainty, alpha)
def test_momentum_stays_between_the_previous_momentum_and_the_kept_uncertainty(previous, kept, rate):
    m = update_momentum(previous, kept, rate)
    assert min(previous, kept) - 1e-9 * max(1.0, kept, previous) <= m
    assert m <= max(previous, kept) + 1e-9 * max(1.0, kept, previous)


@given(st.lists(st.floats(min_value=0.0, max_value=50.0), min_size=1, max_size=30), alpha)
def test_bias_corrected_momentum_stays_within_the_kept_uncertainties(kept, rate):
    assume(rate < 0.999)  # 1 - α^t is then far enough from 0 for float division to be exact enough
    momentum = 0.0
    for value in kept:
        momentum = update_momentum(momentum, value, rate)
    corrected = bias_corrected(momentum, rate, len(kept))
    assert min(kept) - 1e-6 <= corrected <= max(kept) + 1e-6


@given(st.integers(min_value=0, max_value=100), uncertainty, uncertainty, gamma, gamma)
def test_the_gate_is_monotone_in_gamma(step, m, previous, g1, g2):
    low, high = sorted((g1, g2))
    assert gate_threshold(previous, high) <= gate_threshold(previous, low)
    if gate_fires(step, m, previous, low):
        assert gate_fires(step, m, previous, high), "a larger γ must scale at least the same steps"


@given(uncertainty, uncertainty, gamma)
def test_step_zero_is_never_gated_and_gamma_one_scales_any_step_above_the_momentum(m, previous, g):
    assert not gate_fires(0, m, previous, g)
    assert gate_fires(1, m, previous, 1.0) == (m > previous)


VALID = {
    "mode": st.sampled_from(["mur", "per_step", "cot"]),
    "alpha": alpha,
    "gamma": gamma,
    "candidates": st.integers(1, 64),
    "max_steps": st.integers(1, 10_000),
    "max_step_tokens": st.integers(1, 1 << 20),
    "fallback_tokens": st.integers(1, 1 << 20),
    "critic_tokens": st.integers(1, 1 << 10),
    "temperature": st.floats(min_value=0.0, max_value=10.0),
    "token_budget": st.one_of(st.none(), st.integers(1, 1 << 30)),
    "seed": st.one_of(st.none(), st.integers(-(1 << 63), 1 << 63)),
    "bias_correction": st.booleans(),
    "step_format": st.sampled_from(["prompted", "blank_line"]),
    "reuse_draft": st.booleans(),
}


@given(st.fixed_dictionaries(VALID))
def test_any_in_range_settings_are_accepted_and_round_trip(values):
    config = MURConfig(**values)
    assert MURConfig(**config.to_dict()) == config


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


@given(st.sampled_from([f.name for f in fields(MURConfig) if f.name != "method"]), ANYTHING)
def test_any_value_of_any_setting_is_accepted_or_refused_naming_the_setting(name, value):
    try:
        config = MURConfig(**{name: value})
    except ValueError as error:
        assert f"invalid MUR setting {name}=" in str(error) and "must be" in str(error)
    else:
        assert getattr(config, name) == value


@given(st.lists(st.one_of(st.floats(), st.none(), st.text(max_size=3)), max_size=12))
def test_reading_any_logprobs_gives_valid_log_probabilities_or_a_clear_error(values):
    content = [{"token": f"t{i}", "logprob": v, "top_logprobs": []} for i, v in enumerate(values)]
    message = AIMessage(content="x" * len(values), response_metadata={"logprobs": {"content": content}})
    model = ScriptedChatModel(script=[])
    try:
        generation = read_generation(model, ChatGeneration(message=message), single=True)
    except InvalidLogprobsError as error:
        assert "ScriptedChatModel returned" in str(error)
    else:
        assert all(lp <= 1e-6 and not math.isnan(lp) for lp in generation.token_logprobs)
        assert math.isfinite(step_uncertainty(generation.token_logprobs))


@given(st.text(max_size=200))
def test_answer_reading_never_fails_on_any_text(text):
    answer = extract_answer(text)
    assert answer is None or (answer and has_answer(text))
    assert isinstance(answer_is_closed(text), bool)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_rates_are_refused(value):
    for name in ("alpha", "gamma", "temperature"):
        with pytest.raises(ValueError, match=f"invalid MUR setting {name}="):
            MURConfig(**{name: value})
