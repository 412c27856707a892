"""The one place that reaches into llama-cpp-python's internals: a context driven token by token.

`ChatLlamaCpp` runs its own step loop over one `llama_cpp.Llama`: it evaluates chunks of tokens,
reads the last position's logits, cuts the KV cache back to a prefix, and saves and restores
the sequence's KV state. The public `Llama` API offers only some of that, so `LlamaContext` also
uses `Llama._ctx` (the context: memory API, logits row, raw `llama_context` pointer),
`Llama._model.vocab`, and the `n_tokens` / `input_ids` bookkeeping that `Llama.eval` keeps.
Checked against llama-cpp-python 0.3.36 (pyproject allows >=0.3.36,<0.4); a new minor version
must be checked here first.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Sequence

import numpy as np

__all__ = ["LlamaContext"]


class LlamaContext:
    """One loaded GGUF and its llama.cpp context (sequence 0), evaluated by hand."""

    def __init__(self, path: str, n_ctx: int, n_threads: int, n_threads_batch: int) -> None:
        """Load the GGUF (llama.cpp maps the file).

        Raises:
            ImportError: llama-cpp-python is not installed.
        """
        from llama_cpp import Llama

        self.llama = Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads_batch,
            logits_all=False,
            verbose=False,
        )
        # Free llama.cpp's model before interpreter shutdown tears down the bindings it calls.
        weakref.finalize(self, self.llama.close)

    @property
    def metadata(self) -> dict[str, str]:
        """The GGUF's metadata (e.g. `tokenizer.chat_template`)."""
        return dict(self.llama.metadata)

    def bos_eos(self) -> tuple[int, int]:
        """The begin- and end-of-sequence token ids."""
        return int(self.llama.token_bos()), int(self.llama.token_eos())

    def tokenize(self, text: str) -> list[int]:
        """Token ids of rendered template text (its special tokens parsed, no BOS added)."""
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def piece(self, token: int, *, special: bool) -> bytes:
        """The bytes of one token (a special token's text only when `special`)."""
        return bytes(self.llama.detokenize([token], special=special))

    def is_end(self, token: int) -> bool:
        """Whether `token` ends generation (end of sequence, end of turn)."""
        from llama_cpp import llama_vocab_is_eog

        return bool(llama_vocab_is_eog(self.llama._model.vocab, token))

    def decode(self, ids: Sequence[int]) -> None:
        """Decode `ids` after the positions the context holds, as one batch.

        llama-cpp-python calls this `Llama.eval` (llama.cpp's decode, not Python's `eval`).

        Raises:
            RuntimeError: llama.cpp failed to decode.
        """
        self.llama.eval(ids)

    def truncate(self, keep: int) -> None:
        """Drop the KV cache's positions from `keep` on."""
        self.llama._ctx.kv_cache_seq_rm(0, keep, -1)
        self.llama.n_tokens = keep

    def last_logits(self) -> np.ndarray:
        """A copy of the logits row of the last evaluated position [n_vocab] (float32)."""
        n_vocab = self.llama.n_vocab()
        row = np.ctypeslib.as_array(self.llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
        return row.copy()

    def save_state(self) -> bytes:
        """The KV state of sequence 0 (every position the context holds)."""
        import llama_cpp

        ctx = self.llama._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
        return bytes(buffer)[:written]

    def restore_state(self, ids: Sequence[int], data: bytes) -> None:
        """Replace what the context holds by a saved state of `ids`.

        Raises:
            RuntimeError: llama.cpp could not restore it.
        """
        import llama_cpp

        self.truncate(0)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(self.llama._ctx.ctx, buffer, len(data), 0) != len(data):
            msg = (
                "llama.cpp could not restore a saved sequence state; create the model with prefix_cache=False"
            )
            raise RuntimeError(msg)
        self.llama.input_ids[: len(ids)] = ids
        self.llama.n_tokens = len(ids)

    def close(self) -> None:
        """Free the context and the model."""
        self.llama.close()
