"""PrefixCacheStore: longest-prefix lookup by token ids, bounds in entries and bytes, no shared writes.

One store serves both backends: transformers keeps KV tensors in it, llama.cpp saved states (bytes).
"""

from types import SimpleNamespace

import pytest
import torch

from mur_graph.models.prefix_cache import PrefixCacheStore
from mur_graph.models.transformers_cache import plain_dynamic_cache, stored_prefix


def layers_for(ids: list[int], n_layers: int = 2) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Fake keys/values [1, 1, len, 1] whose entries are the token ids, so cuts are visible."""
    t = torch.tensor(ids, dtype=torch.float32).view(1, 1, -1, 1)
    return tuple((t.clone(), -t.clone()) for _ in range(n_layers))


def store_ids(store: PrefixCacheStore, ids: list[int]) -> None:
    layers = layers_for(ids)
    store.store(ids, layers, sum(k.nbytes + v.nbytes for k, v in layers))


def lookup(store: PrefixCacheStore, ids: list[int], limit: int):
    return stored_prefix(store, ids, limit)


def test_lookup_returns_the_longest_shared_prefix_cut_to_the_limit():
    store = PrefixCacheStore(max_entries=4, max_bytes=10**6)
    store_ids(store, [1, 2, 3, 9, 9])
    store_ids(store, [1, 2, 3, 4, 5, 6])
    k, layers = lookup(store, [1, 2, 3, 4, 7, 8], 5)
    assert k == 4
    assert layers[0][0].flatten().tolist() == [1, 2, 3, 4]
    assert layers[1][1].flatten().tolist() == [-1, -2, -3, -4]
    # a prompt equal to a stored sequence is cut at the limit (the last token is left to generate)
    k, _ = lookup(store, [1, 2, 3, 4, 5, 6], 5)
    assert k == 5


def test_a_prompt_sharing_nothing_misses():
    store = PrefixCacheStore(max_entries=4, max_bytes=10**6)
    store_ids(store, [5, 6, 7])
    assert lookup(store, [1, 2, 3], 2) == (0, ())
    assert lookup(PrefixCacheStore(4, 10**6), [1, 2], 1) == (0, ())


def test_a_longer_sequence_supersedes_its_stored_prefix():
    store = PrefixCacheStore(max_entries=4, max_bytes=10**6)
    store_ids(store, [1, 2, 3])
    store_ids(store, [1, 2, 3, 4])
    store_ids(store, [1, 2, 5])
    assert len(store) == 2


def test_least_recently_used_entries_go_first_when_entries_or_bytes_overflow():
    store = PrefixCacheStore(max_entries=2, max_bytes=10**6)
    store_ids(store, [1, 1])
    store_ids(store, [2, 2])
    lookup(store, [1, 1, 5], 2)  # [1, 1] is now the most recent
    store_ids(store, [3, 3])
    assert len(store) == 2
    assert lookup(store, [2, 2, 5], 2)[0] == 0
    assert lookup(store, [1, 1, 5], 2)[0] == 2

    one = sum(k.nbytes + v.nbytes for k, v in layers_for([1, 2, 3]))
    small = PrefixCacheStore(max_entries=8, max_bytes=2 * one)
    for first in (10, 20, 30):
        store_ids(small, [first, 2, 3])
    assert len(small) == 2
    assert small.nbytes == 2 * one
    store_ids(small, list(range(100, 200)))  # larger than the whole budget: not kept
    assert len(small) == 2


def test_lookups_never_hand_out_tensors_that_a_cache_extension_would_change():
    store = PrefixCacheStore(max_entries=2, max_bytes=10**6)
    store_ids(store, [1, 2, 3, 4])
    _, layers = lookup(store, [1, 2, 3, 9], 3)
    grown = torch.cat([layers[0][0], torch.zeros(1, 1, 1, 1)], dim=-2)  # what DynamicLayer.update does
    grown[..., 0, :] = 42
    _, again = lookup(store, [1, 2, 3, 4, 5], 4)
    assert again[0][0].flatten().tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("config", "reusable"),
    [
        ("LlamaConfig", True),
        ("Qwen3Config", True),
        ("MistralConfig", False),  # sliding window: a cut prefix cannot be restored
    ],
)
def test_prefix_reuse_is_offered_only_for_plain_full_attention_caches(config, reusable):
    import transformers

    kwargs = {"num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1}
    if config == "MistralConfig":
        kwargs["sliding_window"] = 8
    model = SimpleNamespace(config=getattr(transformers, config)(**kwargs))
    assert plain_dynamic_cache(model) is reusable


def test_saved_llama_cpp_states_are_kept_by_the_same_store():
    store: PrefixCacheStore[bytes] = PrefixCacheStore(max_entries=2, max_bytes=100)
    store.store((1, 2), b"a", 1)
    store.store((1, 2, 3), b"b", 1)  # supersedes (1, 2)
    assert len(store) == 1
    shared, entry = store.lookup([1, 2, 3, 4])
    assert shared == 3 and entry is not None and (entry.ids, entry.value) == ((1, 2, 3), b"b")
    store.store((5,), b"c", 1)
    store.store((6,), b"d", 1)  # the least recently used, (1, 2, 3), goes
    assert store.lookup([1, 2]) == (0, None)
    store.store((7,), b"x" * 101, 101)  # larger than the whole store: not kept
    assert store.lookup([7]) == (0, None)
