"""`ChatLlamaCpp`: a LangChain chat model over in-process llama.cpp, with exact per-token log-probs.

llama-cpp-python's own `logprobs=` needs `Llama(logits_all=True)`, which keeps n_ctx × vocab
scores and decodes the 1.5B model at a fifth of its speed. This backend runs its own step loop
over the low-level API instead: evaluate the prompt, then per token read the last position's
logits row, take its log-softmax (numpy), sample from it with a seeded numpy generator, and
evaluate the token. So the log-probs are those of the raw model distribution (temperature 1, no
top-k) at full decode speed, in `ChatOpenAI(logprobs=True)`'s shape, like `ChatTransformers`.
What that loop needs beyond llama-cpp-python's public API is in `llama_cpp_adapter`; stop strings
are `stop_text`'s, the saved states `prefix_cache`'s, the retry `retry`'s, as for transformers.

KV reuse (`prefix_cache`): the context keeps the prompt tokens it has encoded; a call keeps the
longest common prefix of those and its prompt and encodes only the rest, and the n samples of one
call share one prefill (each sample truncates the cache back to the prompt and starts from the
saved logits of its last position). Each encoded prompt's KV state is also saved
(`llama_state_seq_get_data`) in the least-recently-used `PrefixCacheStore`, so a policy step that
follows critic calls restores the previous policy prompt instead of encoding it again.

Reuse is bit-exact: llama.cpp's logits depend on how a prompt is cut into batches (on the 1.5B's
Q4_K_M, a prompt encoded in two pieces differs from the same prompt encoded whole by up to 0.5
nats at some cuts), so every prompt is encoded in chunks of `PREFILL_CHUNK` tokens that start at
multiples of it, and a reused prefix is cut back to such a multiple. A prompt is then encoded by
the same sequence of batches whatever the calls before it, and its log-probs equal those without
reuse exactly, on every path: policy steps, candidates (their m_t) and critic verdicts (P(Yes))
alike, whatever prefixes the cache held (tests/e2e/test_llama_cpp.py, test_qwen.py). Sampled
tokens are not reused either: they were decoded one at a time, which rounds differently again, so
the kept step is encoded with the next prompt (docs/models.md).

One llama.cpp context is not thread-safe: calls on one `ChatLlamaCpp` are serialised by a lock,
so an eval runner with concurrency > 1 gains nothing on one model (load one model per worker).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from mur_graph.models.base import LocalChatModel, Settings, fit_context, to_chat_dict, usage
from mur_graph.models.chat_template import render_chat_template
from mur_graph.models.errors import MissingDependencyError
from mur_graph.models.llama_cpp_adapter import LlamaContext
from mur_graph.models.open_end import tokenize_open_end
from mur_graph.models.prefix_cache import PrefixCacheStore, common_prefix
from mur_graph.models.qwen import INSTALL_COMMAND as QWEN_INSTALL_COMMAND
from mur_graph.models.retry import retrying
from mur_graph.models.stop_text import StopText
from mur_graph.models.threads import default_threads

INSTALL_HINT = "pip install 'mur-graph[llama]'"
"""The install command of this backend's extra (it builds llama-cpp-python; see docs/models.md)."""
try:  # numpy comes with llama-cpp-python
    import numpy as np
except ImportError as exc:
    _msg = f"ChatLlamaCpp needs llama-cpp-python; install it with: {INSTALL_HINT}"
    raise MissingDependencyError(_msg) from exc

PREFILL_CHUNK = 32
"""Prompt tokens per llama.cpp batch, at positions that are multiples of it (see the module
docstring). On the 2-core machine the 1.5B encodes 32-token chunks at 0.89× the speed of whole
512-token batches (42.7 vs 47.8 tok/s, 1 thread; docs/performance.md)."""


@dataclass(frozen=True)
class _Token:
    id: int
    entry: dict[str, Any]
    """The OpenAI-shaped log-prob entry."""
    delta: str
    """Text this token releases (held back while it may be the start of a stop string)."""
    finish: str | None
    """Set on the last token of the row."""


@dataclass
class _Row:
    ids: list[int] = field(default_factory=list)
    content: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    finish: str | None = None

    def add(self, token: _Token) -> None:
        self.ids.append(token.id)
        self.content.append(token.entry)
        self.text += token.delta
        self.finish = token.finish


def _choose(log_probs: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Greedy at temperature 0, else a draw from softmax(log_probs / temperature)."""
    if temperature <= 0:
        return int(np.argmax(log_probs))
    weights = np.exp((log_probs - log_probs.max()) / temperature, dtype=np.float64)
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


class ChatLlamaCpp(LocalChatModel):
    """Chat model for a GGUF file run in-process by llama.cpp, returning OpenAI-shaped log-probs.

    Example:
        ```python
        from mur_graph.models import load_chat_model

        chat = load_chat_model("qwen2.5-coder-1.5b")  # a ChatLlamaCpp
        msg = chat.invoke("What is 2 + 2?", max_tokens=32, temperature=0)
        msg.response_metadata["logprobs"]["content"][0]  # {"token": ..., "logprob": ...}
        ```

    Calls are serialised by a lock (one llama.cpp context); `stream` yields one chunk per token
    carrying that token's log-prob entry, and a last chunk with the usage. With a seed, sample i
    of a call draws from numpy's generator seeded [seed, i].
    """

    model_path: str
    """The GGUF file."""
    n_ctx: int = Field(default=4096, ge=16)
    """Context window of the llama.cpp context (prompt + generated tokens)."""
    n_threads: int | None = Field(default=None, ge=1)
    """Threads of token-by-token decoding; None: `$MUR_GRAPH_THREADS`, else the cores this process
    may use (affinity and cgroup quota, `mur_graph.models.usable_cores`). On a machine other
    processes keep busy, 1 is faster (docs/models.md, Threads)."""
    n_threads_batch: int | None = Field(default=None, ge=1)
    """Threads of prompt encoding; None: the decoding threads. The thread count changes no logit."""
    prefix_cache_mb: float = Field(default=256.0, ge=0)
    """At most this many MiB of saved states (least recently used dropped first)."""
    max_retries: int = Field(default=0, ge=0)
    """Further tries of encoding a call's prompt when llama.cpp fails (a decode error, or a saved
    state it cannot restore), after the saved states are dropped and the context emptied."""

    _context: LlamaContext = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _tokens: list[int] = PrivateAttr(default_factory=list)
    """The prompt tokens at the head of the context (sampled tokens after them are never reused)."""
    _states: PrefixCacheStore[bytes] = PrivateAttr(default_factory=lambda: PrefixCacheStore(0, 0))
    """Saved KV states of encoded prompts."""
    _pieces: dict[tuple[int, bool], bytes] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Load the GGUF (about 1 s for 1.1 GB: llama.cpp maps the file)."""
        path = Path(self.model_path)
        if not path.is_file():
            msg = f"no GGUF file at {path}; pass the path of a .gguf model (for Qwen: {QWEN_INSTALL_COMMAND})"
            raise FileNotFoundError(msg)
        self.n_threads = self.n_threads or default_threads()
        self.n_threads_batch = self.n_threads_batch or self.n_threads
        try:
            self._context = LlamaContext(str(path), self.n_ctx, self.n_threads, self.n_threads_batch)
        except ImportError as exc:
            msg = f"ChatLlamaCpp needs llama-cpp-python; install it with: {INSTALL_HINT}"
            raise MissingDependencyError(msg) from exc
        self._states = PrefixCacheStore(self.prefix_cache_entries, int(self.prefix_cache_mb * 2**20))

    @property
    def _llm_type(self) -> str:
        return "mur-graph-llama-cpp"

    def _weights(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    @property
    def llama(self) -> Any:
        """The underlying `llama_cpp.Llama` (its context is ours: do not generate with it directly)."""
        return self._context.llama

    def render_prompt(self, messages: Sequence[BaseMessage]) -> str:
        """Render messages with the GGUF's chat template; a final AI message is left open to continue."""
        template = self._context.metadata.get("tokenizer.chat_template")
        if not template:
            msg = f"{self.model_path} carries no chat template (tokenizer.chat_template); use a chat GGUF"
            raise ValueError(msg)
        continue_final = bool(messages) and isinstance(messages[-1], AIMessage)
        bos, eos = self._context.bos_eos()
        return render_chat_template(
            template,
            [to_chat_dict(m) for m in messages],
            add_generation_prompt=not continue_final,
            continue_final_message=continue_final,
            bos_token=self._token_text(bos),
            eos_token=self._token_text(eos),
            **self.chat_template_kwargs,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        settings = self._settings(stop, kwargs)
        deadline = self._deadline()
        with self._lock:
            prompt, cached, first = self._encode_retrying(messages)
            generations = []
            for index in range(settings.n):
                if index:
                    first, cached = self._rewind(prompt, first)
                row = _Row()
                for token in self._decode(prompt, first, settings, index, deadline):
                    row.add(token)
                    if run_manager and token.delta:
                        run_manager.on_llm_new_token(token.delta)
                sample_usage = usage(len(prompt), len(row.ids), cached)
                generations.append(self._generation(row.text, row.content, row.ids, row.finish, sample_usage))
        return self._chat_result(generations)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Yield one chunk per token with its log-prob entry; the last carries finish and usage."""
        settings = self._settings(stop, kwargs, stream=True)
        deadline = self._deadline()
        with self._lock:
            prompt, cached, first = self._encode_retrying(messages)
            generated = 0
            for token in self._decode(prompt, first, settings, 0, deadline):
                generated += 1
                yield self._chunk(
                    token.delta,
                    [token.entry],
                    [token.id],
                    finish_reason=token.finish,
                    usage=usage(len(prompt), generated, cached) if token.finish else None,
                )

    # -- the step loop ----------------------------------------------------------------------------

    def _encode_retrying(self, messages: Sequence[BaseMessage]) -> tuple[list[int], int, np.ndarray]:
        """`_encode_prompt`, again from an empty context up to `max_retries` times if llama.cpp fails."""
        return retrying(lambda: self._encode_prompt(messages), self.max_retries, RuntimeError, self._reset)

    def _reset(self) -> None:
        """Drop the saved states and empty the context."""
        self._states.clear()
        self._truncate(0)

    def _prompt_text(self, ids: Sequence[int]) -> str:
        """The text of token ids, special tokens included."""
        return b"".join(self._context.piece(token, special=True) for token in ids).decode("utf-8", "replace")

    def _encode_prompt(self, messages: Sequence[BaseMessage]) -> tuple[list[int], int, np.ndarray]:
        """Tokenise and encode the prompt; return (ids, tokens reused, logits of its last position)."""
        text = self.render_prompt(messages)
        # The rendered template already holds the special tokens (BOS included).
        prompt = tokenize_open_end(self._context.tokenize, self._prompt_text, text)
        fit_context(len(prompt), 1, self.n_ctx)

        def usable(reused: int) -> int:
            """The last prompt token is evaluated for its logits; the rest starts at a chunk boundary."""
            return min(reused, len(prompt) - 1) // PREFILL_CHUNK * PREFILL_CHUNK

        keep = 0
        if self.prefix_cache:
            keep = usable(common_prefix(self._tokens, prompt))
            stored, state = self._states.lookup(prompt)
            if state is not None and usable(stored) > keep:  # restore only when that saves a chunk
                self._restore(state.ids, state.value)
                keep = usable(stored)
        first = self._eval_from(prompt, keep)
        self._save_state()
        return prompt, keep, first

    def _rewind(self, prompt: list[int], first: np.ndarray) -> tuple[np.ndarray, int]:
        """Back to the end of the prompt for the next sample: truncate the cache, or re-encode."""
        if self.prefix_cache:
            self._truncate(len(prompt))
            return first, len(prompt) - 1  # shared prefill: all but the last token was reused
        return self._eval_from(prompt, 0), 0

    def _eval_from(self, ids: list[int], keep: int) -> np.ndarray:
        """Keep the first `keep` encoded tokens, encode the rest of `ids`; return the last logits.

        `keep` is a multiple of `PREFILL_CHUNK`: the rest is encoded in the chunks a whole encoding
        would use, so the result does not depend on what was reused.
        """
        self._truncate(keep)
        for start in range(keep, len(ids), PREFILL_CHUNK):
            self._context.decode(ids[start : start + PREFILL_CHUNK])
        self._tokens = list(ids)
        return self._context.last_logits()

    def _truncate(self, keep: int) -> None:
        """Drop the cache's positions from `keep` on."""
        self._context.truncate(keep)
        del self._tokens[keep:]

    def _decode(
        self, prompt: list[int], logits: np.ndarray, s: Settings, index: int, deadline: float | None
    ) -> Iterator[_Token]:
        """Sample one row token by token; yield each token with its log-prob and new text.

        The row ends with "length" at `max_tokens` or once the `time.monotonic()` deadline passed.
        """
        rng = np.random.default_rng(None if s.seed is None else [s.seed, index])
        max_tokens = fit_context(len(prompt), s.max_tokens, self.n_ctx)
        text, raw = StopText(s.stop), b""
        for step in range(max_tokens):
            shifted = logits - logits.max()
            log_probs = shifted - np.log(np.exp(shifted).sum())  # raw log-softmax [n_vocab]
            token = _choose(log_probs, s.temperature, rng)
            finish: str | None = None
            if self._context.is_end(token):
                finish, delta = "stop", text.rest()
            else:
                raw += self._piece(token, special=False)
                delta = text.add(raw.decode("utf-8", errors="ignore"))  # an unfinished character waits
                if text.stopped:
                    finish, delta = "stop", text.rest()
                elif step == max_tokens - 1 or (deadline is not None and time.monotonic() >= deadline):
                    finish, delta = "length", delta + text.rest()
            yield _Token(token, self._entry(token, log_probs, s.top_logprobs), delta, finish)
            if finish is not None:
                return
            self._context.decode([token])
            logits = self._context.last_logits()

    def _entry(self, token: int, log_probs: np.ndarray, top_k: int) -> dict[str, Any]:
        """One OpenAI-shaped log-prob entry (token, logprob, top_logprobs)."""
        tops: list[dict[str, Any]] = []
        if top_k:
            best = np.argpartition(log_probs, -top_k)[-top_k:]
            best = best[np.argsort(-log_probs[best], kind="stable")]
            tops = [{"token": self._token_text(int(t)), "logprob": float(log_probs[t])} for t in best]
        return {"token": self._token_text(token), "logprob": float(log_probs[token]), "top_logprobs": tops}

    def _piece(self, token: int, *, special: bool) -> bytes:
        key = (token, special)
        if key not in self._pieces:
            self._pieces[key] = self._context.piece(token, special=special)
        return self._pieces[key]

    def _token_text(self, token: int) -> str:
        return self._piece(token, special=True).decode("utf-8", errors="replace")

    # -- saved sequence states --------------------------------------------------------------------

    def _save_state(self) -> None:
        """Save the KV state of the prompt just encoded, for a later call that extends it."""
        if not self.prefix_cache or not self._states.max_entries or not self._tokens:
            return
        data = self._context.save_state()
        self._states.store(self._tokens, data, len(data))

    def _restore(self, ids: tuple[int, ...], data: bytes) -> None:
        """Load the saved state of `ids` into the context (replacing what it held)."""
        self._context.restore_state(ids, data)
        self._tokens = list(ids)
