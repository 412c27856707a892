"""ChatLlamaCpp's step-loop helpers without a model: stop strings while streaming, and sampling."""

import sys

import numpy as np
import pytest

from mur_graph.models.errors import MissingDependencyError
from mur_graph.models.llama_cpp import ChatLlamaCpp, _choose, _StateStore, _Text


def feed(text: _Text, pieces):
    out = []
    for piece in pieces:
        delta, hit = text.add(piece.encode())
        out.append(delta)
        if hit:
            return out, True
    return out, False


def test_text_that_may_start_a_stop_string_is_held_back_until_it_cannot():
    text = _Text(("Step1:",))
    out, hit = feed(text, [" 17 + 25 = 42", "\nSt", "ep", "1", ":", " more"])
    assert hit and out == [" 17 + 25 = 42", "\n", "", "", ""]
    released, hit = feed(_Text(("Step1:",)), ["a St", "opped"])
    assert not hit and "".join(released) == "a Stopped"


def test_a_stop_string_is_cut_and_the_rest_flushed_at_the_end():
    text = _Text(("\n\n", "Step1:"))
    out, hit = feed(text, ["x\n", "\ny"])
    assert hit and "".join(out) == "x"
    ended = _Text(("Step1:",))
    out, hit = feed(ended, ["ends with St"])
    assert not hit and "".join(out) + ended.flush() == "ends with St"


def test_a_character_split_over_tokens_waits_for_its_last_byte():
    text = _Text(())
    euro = "€".encode()
    assert text.add(euro[:2]) == ("", False)
    assert text.add(euro[2:]) == ("€", False)


def test_choose_is_greedy_at_zero_and_follows_the_distribution_when_sampling():
    log_probs = np.log(np.array([0.1, 0.6, 0.3]))
    assert _choose(log_probs, 0.0, np.random.default_rng(0)) == 1
    rng = np.random.default_rng(7)
    draws = np.bincount([_choose(log_probs, 1.0, rng) for _ in range(4000)], minlength=3) / 4000
    assert np.allclose(draws, [0.1, 0.6, 0.3], atol=0.03)
    cold = [_choose(log_probs, 0.05, rng) for _ in range(200)]
    assert cold.count(1) > 190  # a low temperature sharpens towards the mode


def test_the_state_store_keeps_the_longest_prefix_and_drops_superseded_and_old_entries():
    store = _StateStore(max_entries=2, max_bytes=100)
    store.store((1, 2), b"a")
    store.store((1, 2, 3), b"b")  # supersedes (1, 2)
    assert len(store) == 1
    assert store.lookup([1, 2, 3, 4]) == (3, ((1, 2, 3), b"b"))
    store.store((5,), b"c")
    store.store((6,), b"d")  # the least recently used, (1, 2, 3), goes
    assert store.lookup([1, 2]) == (0, ((), b""))
    store.store((7,), b"x" * 101)  # larger than the whole store: not kept
    assert store.lookup([7]) == (0, ((), b""))


def test_without_llama_cpp_python_the_error_names_the_install(tmp_path, monkeypatch):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now fails
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install 'mur-graph\[llama\]'$"):
        ChatLlamaCpp(model_path=str(model))
