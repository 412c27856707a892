"""Export a shipped GGUF as a bf16 Hugging Face folder that vLLM serves (`mur-graph models export-hf`).

vLLM loads a Hugging Face folder (config, safetensors, tokenizer with its chat template), not the
GGUFs mur-graph ships. transformers reads a GGUF with `gguf_file=` and de-quantises it, but
refuses `save_pretrained` on the result (it is marked "quantized with gguf"); a model built
`from_config` (a config without `quantization_config`) and given the loaded weights saves a plain
folder. The weights are stored as bfloat16: half of float32's size, the dtype vLLM's CPU backend
runs, and the de-quantised Q4 values lose little in it (the agreement with llama.cpp on the GGUF is
measured in docs/models.md).

Like the Qwen install, an export is written once into the model cache (`cache_root()`), through a
temporary folder renamed into place; a later call finds it by its marker file and returns it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mur_graph.models.embedded import cache_root, find_embedded_gguf, save_into_place
from mur_graph.models.errors import EmbeddedModelError
from mur_graph.models.qwen import QWEN_NAME, ensure_qwen_gguf

MARKER = "mur-graph-export.json"
"""Written last into an export: its presence means the folder is complete."""
DTYPE = "bfloat16"


@dataclass(frozen=True)
class Exportable:
    """A shipped model that can be exported: where its GGUF is, and its export folder's name."""

    gguf: Callable[[], Path]
    """Returns the GGUF, installing or joining it if needed (raises naming the fix otherwise)."""
    folder: str
    """Name of the export folder in the model cache."""
    served_name: str
    """A short name to serve it under (`vllm ... --served-model-name`)."""


EXPORTABLE_MODELS: dict[str, Exportable] = {
    "smollm2": Exportable(find_embedded_gguf, "smollm2-135m-instruct-bf16-hf", "smollm2"),
    QWEN_NAME: Exportable(ensure_qwen_gguf, "qwen2.5-coder-1.5b-instruct-bf16-hf", QWEN_NAME),
}
"""Names `export_hf` accepts (those of `load_chat_model`'s shipped GGUFs)."""


def export_dir(name: str) -> Path:
    """The cached export folder of a shipped model: `<cache root>/<name>-…-bf16-hf`."""
    return cache_root() / _exportable(name).folder


def is_exported(folder: Path) -> bool:
    """Whether `folder` holds a finished export (its marker file is written last)."""
    return (folder / MARKER).is_file()


def export_hf(name: str, target: Path | None = None) -> Path:
    """Export the shipped model `name` as a bf16 Hugging Face folder; return the folder.

    `target` defaults to the model cache (`export_dir(name)`). A finished export already there is
    returned as is; otherwise the folder is written beside `target` and renamed into place, so an
    interrupted export never leaves a half-written model. Memory: the GGUF is de-quantised to
    float32, then copied into the bf16 model (Qwen2.5-Coder-1.5B: 10.9 GB peak RSS, measured).

    Raises:
        ValueError: `name` is not a shipped model, or `target` exists and is not an export.
        EmbeddedModelError: the package `gguf` is missing.
        QwenModelError: the Qwen GGUF is not installed (its message names `make setup-qwen`).
    """
    entry = _exportable(name)
    folder = Path(target) if target is not None else cache_root() / entry.folder
    if is_exported(folder):
        return folder
    if folder.exists() and any(folder.iterdir()):
        msg = f"{folder} exists and is not a mur-graph export; pass an empty or new folder"
        raise ValueError(msg)
    gguf = entry.gguf()
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF files)
    except ImportError as exc:
        msg = "exporting a GGUF needs the package 'gguf'; install it with: pip install gguf"
        raise EmbeddedModelError(msg) from exc
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    source, file = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=file)
    weights = AutoModelForCausalLM.from_pretrained(source, gguf_file=file).state_dict()  # float32
    config = AutoConfig.from_pretrained(source, gguf_file=file)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.bfloat16
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    loaded = model.load_state_dict(weights, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(loaded.missing_keys) - tied or loaded.unexpected_keys:
        msg = (
            f"{gguf.name}'s tensors do not fit its config (missing {loaded.missing_keys}, "
            f"unexpected {loaded.unexpected_keys}); export a GGUF of a causal LM transformers reads"
        )
        raise ValueError(msg)
    del weights
    model.tie_weights()
    model.eval()

    def save(staging: Path) -> None:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        marker = {"source": str(gguf), "size": gguf.stat().st_size, "dtype": DTYPE}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")  # last: the folder is whole

    save_into_place(folder, save, finished=is_exported)
    return folder


def _exportable(name: str) -> Exportable:
    if name not in EXPORTABLE_MODELS:
        msg = f"unknown model {name!r} to export; pass one of: {', '.join(EXPORTABLE_MODELS)}"
        raise ValueError(msg)
    return EXPORTABLE_MODELS[name]
