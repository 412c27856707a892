"""Decode speed of a randomly initialised Qwen3-1.7B: plain generate vs the static-cache compiled path.

Needs only torch and transformers (no mur_graph, no network): the model is built from Qwen3-1.7B's
published config, with random bf16 weights, so the numbers are about speed, not text. Arms, each
at every batch size, interleaved and reported as medians:

- `plain`: `model.generate` with its default dynamic cache (one Python-launched forward per token);
- `static_compiled`: the settings `ChatTransformers(static_cache=True)` passes to generate: a
  static KV cache of fixed size and transformers' own `CompileConfig(mode="reduce-overhead")`
  (torch.compile + CUDA graphs for the decoding forward), plus `output_logits=True` as
  ChatTransformers asks for the log-probs. Compiled on the first calls (not timed).

The bandwidth bound at batch b is b × bandwidth / (weight bytes + mean KV bytes read per step).

    python benchmarks/perf/gpu_decode.py --out /tmp/gpu_decode.json            # GPU, Qwen3-1.7B
    python benchmarks/perf/gpu_decode.py --tiny --batch-sizes 1,2 --new-tokens 16   # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import CompileConfig, Qwen3Config, Qwen3ForCausalLM

QWEN3_1_7B: dict[str, Any] = {
    # huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json
    "vocab_size": 151936,
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "hidden_act": "silu",
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
    "tie_word_embeddings": True,
    "attention_bias": False,
    "use_sliding_window": False,
    "sliding_window": None,
    "max_window_layers": 28,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
}
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
TINY |= {"num_key_value_heads": 2, "head_dim": 16, "vocab_size": 1024, "max_window_layers": 2}
PEAK_BANDWIDTH_GBS = {"H100": 3350.0, "H200": 4800.0}
"""Published HBM bandwidth (SXM parts), matched against the device name."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model: checks the script runs (CPU)")
    parser.add_argument("--batch-sizes", default="1,4,16")
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per arm and batch size")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--compile-anywhere", action="store_true", help="compile on CPU too (checks the compiled path runs)"
    )
    parser.add_argument("--bandwidth-gbs", type=float, help="HBM bandwidth; default from the GPU name")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/performance/gpu_decode.json"))
    return parser.parse_args(argv)


def build_model(tiny: bool, device: str) -> Qwen3ForCausalLM:
    """Qwen3-1.7B (or a tiny sibling) with random weights, created directly on `device`."""
    config = Qwen3Config(**(QWEN3_1_7B | (TINY if tiny else {})))
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    torch.manual_seed(0)
    with torch.device(device):
        # transformers decorates `to` with functools.wraps, whose typing binds `dtype` to `self`
        model = Qwen3ForCausalLM(config).to(dtype)  # type: ignore[arg-type]
    model.generation_config.eos_token_id = None  # random weights: decode a fixed number of tokens
    model.generation_config.pad_token_id = 0
    return model.eval()


def arm_settings(name: str, max_cache_len: int, compile_anywhere: bool) -> dict[str, Any]:
    """generate() keyword arguments of one arm."""
    if name == "plain":
        return {}
    compile_config = CompileConfig(fullgraph=False, mode="reduce-overhead")
    if compile_anywhere:  # transformers compiles only on GPUs unless told otherwise
        # a private flag transformers declares as `_compile_all_devices = None`, with no annotation
        compile_config._compile_all_devices = True  # type: ignore[assignment]
    return {
        "cache_implementation": "static",
        "max_cache_len": max_cache_len,
        "compile_config": compile_config,
        "output_logits": True,
        "return_dict_in_generate": True,
    }


def timed_generate(
    model: Qwen3ForCausalLM, ids: torch.Tensor, new_tokens: int, settings: dict[str, Any]
) -> float:
    sync = torch.cuda.synchronize if ids.is_cuda else (lambda: None)
    sync()
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            **settings,
        )
    sync()
    seconds = time.perf_counter() - started
    sequences = out.sequences if hasattr(out, "sequences") else out
    if sequences.shape[1] - ids.shape[1] != new_tokens:
        msg = f"generated {sequences.shape[1] - ids.shape[1]} tokens, expected {new_tokens}"
        raise RuntimeError(msg)
    return seconds


def bandwidth_bound(
    model: Qwen3ForCausalLM, batch: int, args: argparse.Namespace, gbs: float | None
) -> float | None:
    """Tokens/s if every decode step only streamed the weights and the mean KV cache from memory."""
    if gbs is None:
        return None
    c = model.config
    assert c.num_key_value_heads is not None  # Qwen3Config sets it to num_attention_heads if not given
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    mean_len = args.prompt_tokens + args.new_tokens / 2
    kv_bytes = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * mean_len * batch * 2
    return batch * gbs * 1e9 / (weight_bytes + kv_bytes)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model = build_model(args.tiny, args.device)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "CPU"
    gbs = args.bandwidth_gbs or next((v for k, v in PEAK_BANDWIDTH_GBS.items() if k in name), None)
    arms = ["plain", "static_compiled"]
    max_cache_len = args.prompt_tokens + args.new_tokens
    rows = []
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        generator = torch.Generator().manual_seed(batch)
        ids = torch.randint(0, model.config.vocab_size, (batch, args.prompt_tokens), generator=generator)
        ids = ids.to(args.device)
        for arm in arms:
            for _ in range(args.warmup):
                timed_generate(
                    model, ids, args.new_tokens, arm_settings(arm, max_cache_len, args.compile_anywhere)
                )
        times: dict[str, list[float]] = {arm: [] for arm in arms}
        for rep in range(args.reps):
            for arm in arms[rep % 2 :] + arms[: rep % 2]:
                settings = arm_settings(arm, max_cache_len, args.compile_anywhere)
                times[arm].append(timed_generate(model, ids, args.new_tokens, settings))
        bound = bandwidth_bound(model, batch, args, gbs)
        for arm in arms:
            seconds = statistics.median(times[arm])
            tok_s = batch * args.new_tokens / seconds
            rows.append(
                {
                    "batch": batch,
                    "arm": arm,
                    "median_s": seconds,
                    "tok_per_s": tok_s,
                    "vs_plain": statistics.median(times["plain"]) / seconds,
                    "of_bandwidth_bound": None if bound is None else tok_s / bound,
                    "times_s": times[arm],
                }
            )
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "times_s"}), flush=True)
    result = {
        "model": "Qwen3 tiny (2 layers)" if args.tiny else "Qwen3-1.7B config, random bf16 weights",
        "device": name,
        "bandwidth_gbs": gbs,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("| batch | arm | tok/s | × plain | of bandwidth bound |\n|---|---|---|---|---|")
    for row in rows:
        bound_part = "—" if row["of_bandwidth_bound"] is None else f"{row['of_bandwidth_bound']:.1%}"
        cells = [
            str(row["batch"]),
            row["arm"],
            f"{row['tok_per_s']:.1f}",
            f"{row['vs_plain']:.2f}",
            bound_part,
        ]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
