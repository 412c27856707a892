"""The bf16 export served by vLLM against llama.cpp on the GGUF: greedy tokens and log-probs.

For each prompt llama.cpp (`ChatLlamaCpp`, in process) decodes `--tokens` tokens greedily from the
shipped GGUF; a vLLM server (`.venv-vllm`) on the export of `mur-graph models export-hf` scores
the same prompt and tokens (`prompt_logprobs`). Reported: whether vLLM renders the same prompt
tokens, at how many positions vLLM's most likely token is llama.cpp's, by how much it loses where
not, and |Δ log-prob| quantiles. tests/vllm asserts bounds on SmolLM2's figures.

    PYTHONPATH=. .venv/bin/python benchmarks/vllm/export_agreement.py --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import write
from mur_graph.models import ChatLlamaCpp, export_hf
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.qwen import ensure_qwen_gguf
from tests.vllm.server import AGREEMENT_PROMPTS, VllmServer, agreement

GGUFS = {"smollm2": find_embedded_gguf, "qwen2.5-coder-1.5b": ensure_qwen_gguf}
OUT = Path(__file__).resolve().parents[1] / "results" / "vllm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=list(GGUFS), default="smollm2")
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    folder = export_hf(args.model)
    exported_s = time.perf_counter() - started
    llama = ChatLlamaCpp(model_path=str(GGUFS[args.model]()), n_ctx=1024)
    with tempfile.TemporaryDirectory() as tmp:
        server = VllmServer(folder, Path(tmp) / "vllm.log", name=args.model).start()
        try:
            found = agreement(llama, server.root, AGREEMENT_PROMPTS, args.tokens, model=args.model)
        finally:
            server.stop()
    print(found.describe())
    payload = {
        "model": args.model,
        "export": str(folder),
        "export_or_cache_s": round(exported_s, 1),
        "vllm_started_in_s": round(server.started_in_s or 0.0, 1),
        "positions": found.positions,
        "argmax_agrees": found.argmax_agrees,
        "losing_margins": sorted(round(x, 4) for x in found.losing_margins),
        "median": round(found.quantile(0.5), 4),
        "p95": round(found.quantile(0.95), 4),
        "max": round(found.deltas[-1], 4),
    }
    markdown = (
        f"## {args.model}: vLLM on the bf16 export against llama.cpp on the GGUF\n\n"
        f"{len(AGREEMENT_PROMPTS)} prompts x {args.tokens} greedy tokens of llama.cpp, scored by vLLM: "
        f"{found.describe()}. vLLM answered {payload['vllm_started_in_s']} s after start.\n"
    )
    write(f"export_agreement_{args.model}", payload, markdown, out=OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
