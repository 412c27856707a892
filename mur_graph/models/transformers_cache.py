"""The transformers backend's KV caches: prefix reuse through the store, and the static GPU cache.

A call copies the longest stored prefix of its prompt into a fresh `DynamicCache`, encodes the
rest of the prompt but its last token (`prefill`), and afterwards stores the cache of each
sampled row for the next step (`keep_rows`). Stored tensors are never written: a transformers
`DynamicLayer` grows by concatenation into new tensors, so a cache built from slices of stored
tensors can be extended by `generate` freely. torch and transformers are imported when called.
"""

from __future__ import annotations

import inspect
from typing import Any

from mur_graph.models.prefix_cache import PrefixCacheStore

__all__ = [
    "KVLayers",
    "as_row",
    "cache_arg",
    "keep_rows",
    "output_cache",
    "plain_dynamic_cache",
    "prefill",
    "static_cache_settings",
    "stored_prefix",
]

KVLayers = tuple[tuple[Any, Any], ...]
"""Per layer, keys and values [1, kv_heads, length, head_dim]."""


def plain_dynamic_cache(model: Any) -> bool:
    """True when the model's dynamic cache is plain full-attention layers, which prefix reuse can cut.

    Sliding-window, linear-attention and other layer kinds keep state a cut prefix cannot restore.
    """
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    try:
        layers = DynamicCache(config=model.config).layers
    except (TypeError, ValueError, AttributeError):
        return False
    return all(type(layer) is DynamicLayer for layer in layers)


def prefill(model: Any, prompt_ids: Any, store: PrefixCacheStore[KVLayers] | None, n: int) -> tuple[int, Any]:
    """Return (reused tokens, cache [n rows] of all prompt tokens but the last).

    The longest stored prefix (if a store is given) is copied into a fresh cache; the rest of the
    prompt but its last token is encoded once at batch 1, then the cache is repeated for the n
    rows. `generate` (or the stream) then encodes the last prompt token itself, which yields the
    logits of the first sampled position.
    """
    from transformers import DynamicCache

    prompt_len = prompt_ids.shape[1]
    cached, layers = stored_prefix(store, prompt_ids[0].tolist(), prompt_len - 1) if store else (0, ())
    cache = DynamicCache(ddp_cache_data=layers or None, config=model.config)  # copies: stored stay intact
    if cached < prompt_len - 1:
        encode = {cache_arg(model): cache, "use_cache": True, "logits_to_keep": 1}
        model(input_ids=prompt_ids[:, cached:-1], **encode)
    if n > 1:
        cache.batch_repeat_interleave(n)
    return cached, cache


def stored_prefix(store: PrefixCacheStore[KVLayers], ids: list[int], limit: int) -> tuple[int, KVLayers]:
    """(k, layers): the longest stored prefix of `ids`, cut at `limit`; views of the stored tensors."""
    shared, entry = store.lookup(ids)
    k = min(shared, limit)
    if entry is None or k <= 0:
        return 0, ()
    return k, tuple((keys[:, :, :k], values[:, :, :k]) for keys, values in entry.value)


def cache_arg(model: Any) -> str:
    """The keyword under which `model` takes a KV cache.

    `cache` since transformers 5.24, which deprecates the older `past_key_values`.
    """
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def output_cache(out: Any) -> Any:
    """The KV cache a `generate` output returns (`cache` since transformers 5.24)."""
    return out.cache if "cache" in getattr(out, "__dataclass_fields__", ()) else out.past_key_values


def keep_rows(
    store: PrefixCacheStore[KVLayers], prompt_ids: Any, new_ids: Any, ends: list[int], cache: Any
) -> None:
    """Store the cache of prompt + generated tokens of each row, for the next step's prompt.

    The cache holds every position but the last sampled one (never fed back); tokens a row
    generated after its end are batch padding and are left out.
    """
    import torch

    encoded = cache.get_seq_length() - prompt_ids.shape[1]  # generated tokens held by the cache
    for row, end in enumerate(ends):
        keep = prompt_ids.shape[1] + min(end, encoded)
        ids = torch.cat([prompt_ids[0], new_ids[row, : keep - prompt_ids.shape[1]]]).tolist()
        layers = tuple(
            (layer.keys[row : row + 1, :, :keep].clone(), layer.values[row : row + 1, :, :keep].clone())
            for layer in cache.layers
        )
        store.store(ids, layers, sum(k.nbytes + v.nbytes for k, v in layers))


def as_row(ids: list[int], like: Any) -> Any:
    """Token ids as a [1, steps] tensor of `like`'s dtype and device."""
    import torch

    return torch.tensor([ids], dtype=like.dtype, device=like.device)  # [1, steps]


def static_cache_settings(max_cache_len: int) -> dict[str, Any]:
    """generate() settings of the GPU fast path: static cache, compiled forward with CUDA graphs.

    transformers compiles the decoding forward itself when the cache is static and the model is
    on a GPU (`CompileConfig`, mode "reduce-overhead"); it copies each step's logits out of the
    graph's buffers. One cache size for every call keeps one compiled graph per batch size.
    """
    from transformers import CompileConfig

    return {
        "cache_implementation": "static",
        "max_cache_len": max_cache_len,
        "compile_config": CompileConfig(fullgraph=False, mode="reduce-overhead"),
    }
