"""The transformers backend's log-probs: raw-model log-probs of sampled tokens, as OpenAI's entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["logprob_entries", "sampled_logprobs", "streamed_entries"]


def sampled_logprobs(logits: Sequence[Any], new_ids: Any, top_k: int) -> tuple[Any, list[list[Any]]]:
    """Raw-model log-probs of the sampled tokens [n, steps], and per row and step the top-k (ids, values).

    log_softmax of the unprocessed logits, one position at a time, so that no [n, steps, vocab]
    copy is made beside generate's own.
    """
    import torch

    chosen_steps, top_steps = [], []
    for position, step_logits in enumerate(logits):  # step_logits: [n, vocab]
        step_log_probs = torch.log_softmax(step_logits.float(), dim=-1)
        chosen_steps.append(step_log_probs.gather(-1, new_ids[:, position : position + 1]))
        if top_k:
            top_steps.append(step_log_probs.topk(top_k, dim=-1))
    rows = range(new_ids.shape[0])
    tops = [[(top.indices[row], top.values[row]) for top in top_steps] for row in rows]
    return torch.cat(chosen_steps, dim=1), tops


def _top(log_probs: Any, top_k: int) -> list[tuple[int, float]]:
    """The `top_k` most likely (token, log-prob) pairs of one position's log-probs [vocab]."""
    if not top_k:
        return []
    top = log_probs.topk(top_k)
    return list(zip(top.indices.tolist(), top.values.tolist(), strict=True))


def streamed_entries(
    tokenizer: Any, tokens: list[tuple[int, Any]], top_k: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """The log-prob entries and ids of streamed (token, log-probs [vocab]) pairs."""
    ids = [token for token, _ in tokens]
    logprobs = [float(log_probs[token]) for token, log_probs in tokens]
    return logprob_entries(tokenizer, ids, logprobs, [_top(log_probs, top_k) for _, log_probs in tokens]), ids


def logprob_entries(
    tokenizer: Any, ids: list[int], logprobs: list[float], tops: list[list[tuple[int, float]]]
) -> list[dict[str, Any]]:
    """OpenAI's `logprobs.content` entries; every token and alternative decoded in one batch call."""
    if not ids:
        return []
    tops = tops or [[] for _ in ids]
    decoded = tokenizer.batch_decode([[t] for t in ids] + [[t] for row in tops for t, _ in row])
    alternatives = iter(decoded[len(ids) :])
    return [
        {
            "token": token,
            "logprob": logprob,
            "top_logprobs": [{"token": next(alternatives), "logprob": value} for _, value in row],
        }
        for token, logprob, row in zip(decoded[: len(ids)], logprobs, tops, strict=True)
    ]
