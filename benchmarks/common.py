"""Shared parts of the benchmark scripts: interleaved timing, medians, JSON and Markdown output.

Every benchmark times its arms side by side in one process, rotating their order in each
repetition (A B C, B C A, C A B, ...) so that load from other processes on a shared machine falls
on all arms alike, and reports medians and ratios of medians.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage, UsageMetadata
    from langchain_core.outputs import ChatGeneration, LLMResult

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "performance"


def interleaved(arms: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    """Run each arm `reps` times, rotating the order per repetition; return wall seconds per arm."""
    names = list(arms)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            started = time.perf_counter()
            arms[name]()
            times[name].append(time.perf_counter() - started)
            print(f"rep {rep}: {name} {times[name][-1]:.3f} s", flush=True)
    return times


def median(values: Sequence[float]) -> float:
    """Median of measured values."""
    return statistics.median(values)


def usage(message: BaseMessage) -> UsageMetadata:
    """`message`'s token counts, which our chat models report on every reply."""
    from langchain_core.messages import AIMessage

    if not isinstance(message, AIMessage) or message.usage_metadata is None:
        msg = f"{type(message).__name__} without usage_metadata: the chat model reported no token counts"
        raise TypeError(msg)
    return message.usage_metadata


def chat_generations(result: LLMResult) -> list[ChatGeneration]:
    """The generations of the first prompt of a chat model's `generate` call, all ChatGeneration."""
    from langchain_core.outputs import ChatGeneration

    found = result.generations[0]
    chats = [g for g in found if isinstance(g, ChatGeneration)]
    if len(chats) != len(found):
        msg = f"a chat model returned {len(found) - len(chats)} generation(s) without a message"
        raise TypeError(msg)
    return chats


def machine() -> str:
    """One line about where the numbers were taken."""
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({device}), torch {torch.__version__}, "
        f"Python {platform.python_version()}, load average at the end {load:.1f}"
    )


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of `rows` (floats with 3 significant digits)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.3g}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(name: str, payload: dict[str, Any], markdown: str, out: Path = RESULTS) -> None:
    """Write `name`.json and `name`.md under `out` and print the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **payload}
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = f"{markdown}\nMachine: {payload['machine']}.\n"
    (out / f"{name}.md").write_text(text)
    print(text)
