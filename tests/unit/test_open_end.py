"""`tokenize_open_end`: a prompt ending in whitespace is cut as it would be before a word."""

import re

from mur_graph.models.open_end import tokenize_open_end


class Toy:
    """A tokeniser over a regex of pieces, each piece one id (the vocabulary grows as it meets them)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)
        self.vocab: dict[str, int] = {}

    def tokenize(self, text: str) -> list[int]:
        return [self.vocab.setdefault(piece, len(self.vocab)) for piece in self.pattern.findall(text)]

    def decode(self, ids) -> str:
        pieces = {i: piece for piece, i in self.vocab.items()}
        return "".join(pieces[i] for i in ids)

    def pieces(self, ids) -> list[str]:
        pieces = {i: piece for piece, i in self.vocab.items()}
        return [pieces[i] for i in ids]


GPT2_LIKE = r"\n(?=\n*\S)|\n+|\S+|[ \t]+"
"""Newlines before a word one by one, a run at the very end as one piece (SmolLM2's habit)."""
QWEN_LIKE = r"\n+|\S+|[ \t]+"
"""A run of newlines whole wherever it stands."""


def open_end(toy: Toy, text: str) -> list[str]:
    return toy.pieces(tokenize_open_end(toy.tokenize, toy.decode, text))


def test_a_trailing_blank_line_is_cut_as_before_a_word():
    toy = Toy(GPT2_LIKE)
    assert toy.pieces(toy.tokenize("So 42.\n\n")) == ["So", " ", "42.", "\n\n"]  # what the model rarely saw
    assert open_end(toy, "So 42.\n\n") == ["So", " ", "42.", "\n", "\n"]  # what it writes before a word
    assert toy.pieces(toy.tokenize("So 42.\n\nNext")) == ["So", " ", "42.", "\n", "\n", "Next"]


def test_a_tokeniser_that_keeps_the_run_whole_gets_the_same_ids():
    toy = Toy(QWEN_LIKE)
    assert open_end(toy, "So 42.\n\n") == ["So", " ", "42.", "\n\n"]


def test_text_not_ending_in_whitespace_is_tokenised_as_it_is():
    toy = Toy(GPT2_LIKE)
    assert open_end(toy, "So 42") == ["So", " ", "42"]
    assert open_end(toy, "") == []


def test_a_probe_that_merges_with_the_whitespace_leaves_the_text_as_it_is():
    toy = Toy(r" ?\S+|\n+| +")  # a space joins the word after it, as GPT-2's ` ?\p{L}+`
    assert open_end(toy, "So 42 ") == ["So", " 42", " "]


def test_ids_that_do_not_decode_back_to_the_text_are_not_used():
    toy = Toy(GPT2_LIKE)

    def lossy(ids) -> str:
        return toy.decode(ids).replace("\n", " ")

    assert toy.pieces(tokenize_open_end(toy.tokenize, lossy, "So 42.\n\n")) == ["So", " ", "42.", "\n\n"]


def test_only_the_tails_after_the_shared_tokens_are_decoded():
    toy = Toy(GPT2_LIKE)
    decoded: list[int] = []

    def counting(ids) -> str:
        decoded.append(len(ids))
        return toy.decode(ids)

    text = "word " * 500 + "So 42.\n\n"
    assert toy.pieces(tokenize_open_end(toy.tokenize, counting, text))[-3:] == ["42.", "\n", "\n"]
    assert decoded == [4 + 2, 4 + 1]  # four shared tokens (" ", "So", " ", "42."), then "\n" "\n" / "\n\n"


def test_tails_that_decode_alike_but_not_to_the_texts_end_are_not_used():
    toy = Toy(GPT2_LIKE)

    def drops_newlines(ids) -> str:  # "\n\n" and "\n" "\n" both decode to ""
        return toy.decode(ids).replace("\n", "")

    text = "a b c d e f So 42.\n\n"
    assert toy.pieces(tokenize_open_end(toy.tokenize, drops_newlines, text))[-1] == "\n\n"
