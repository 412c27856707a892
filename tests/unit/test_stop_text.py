"""StopText, the stop-string handler of both in-process backends: cut at one, hold back its start."""

import pytest

from mur_graph.models.stop_text import StopText, shown_length, stop_position


def feed(text: StopText, pieces: list[str]) -> list[str]:
    """Feed the text piece by piece, as the backends do (each time the whole text so far)."""
    out, so_far = [], ""
    for piece in pieces:
        so_far += piece
        out.append(text.add(so_far))
        if text.stopped:
            break
    return out


def test_text_that_may_start_a_stop_string_is_held_back_until_it_cannot():
    text = StopText(["Step1:"])
    out = feed(text, [" 17 + 25 = 42", "\nSt", "ep", "1", ":", " more"])
    assert out == [" 17 + 25 = 42", "\n", "", "", ""]
    assert text.stopped and text.rest() == ""
    free = StopText(["Step1:"])
    released = feed(free, ["a St", "opped"])
    assert not free.stopped and "".join(released) == "a Stopped"


def test_a_stop_string_is_cut_and_what_preceded_it_released_at_the_end():
    text = StopText(["\n\n", "Step1:"])
    out = feed(text, ["x\n", "\ny"])
    assert text.stopped and "".join(out) + text.rest() == "x"
    ended = StopText(["Step1:"])
    out = feed(ended, ["ends with St"])
    assert not ended.stopped and "".join(out) + ended.rest() == "ends with St"


def test_a_character_split_over_tokens_waits_for_its_last_byte():
    euro = "€".encode()
    text = StopText([])
    assert text.add(euro[:2].decode("utf-8", errors="ignore")) == ""  # llama.cpp: bytes decoded leniently
    assert text.add(euro.decode()) == "€"
    assert StopText([]).add("caf\ufffd") == "caf"  # transformers: the tokenizer's replacement character


@pytest.mark.parametrize(
    ("text", "stops", "shown"),
    [
        ("a b St", ["Step1:"], 4),  # "St" may begin the stop string
        ("a b Sx", ["Step1:"], 6),
        ("a b S", ["Step1:", "b Sx"], 2),  # the longest tail that may begin one is held
        ("caf\ufffd", [], 3),  # an incomplete character waits for its other bytes
        ("abc", [], 3),
    ],
)
def test_the_stream_holds_back_what_may_begin_a_stop_string(text, stops, shown):
    assert shown_length(text, stops) == shown


def test_the_first_stop_string_in_the_text_wins():
    assert stop_position("a\n\nStep1:", ["Step1:", "\n\n"]) == 1
    assert stop_position("abc", ["x", ""]) is None
