"""ChatLlamaCpp's step-loop helpers without a model: sampling, and the missing extra's message."""

import sys

import numpy as np
import pytest

from mur_graph.models.errors import MissingDependencyError
from mur_graph.models.llama_cpp import ChatLlamaCpp, _choose


def test_choose_is_greedy_at_zero_and_follows_the_distribution_when_sampling():
    log_probs = np.log(np.array([0.1, 0.6, 0.3]))
    assert _choose(log_probs, 0.0, np.random.default_rng(0)) == 1
    rng = np.random.default_rng(7)
    draws = np.bincount([_choose(log_probs, 1.0, rng) for _ in range(4000)], minlength=3) / 4000
    assert np.allclose(draws, [0.1, 0.6, 0.3], atol=0.03)
    cold = [_choose(log_probs, 0.05, rng) for _ in range(200)]
    assert cold.count(1) > 190  # a low temperature sharpens towards the mode


def test_without_llama_cpp_python_the_error_names_the_install(tmp_path, monkeypatch):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now fails
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install 'mur-graph\[llama\]'$"):
        ChatLlamaCpp(model_path=str(model))
