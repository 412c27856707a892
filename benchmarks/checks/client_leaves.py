"""A client that leaves mid-stream stops its run on a real model: the server's CPU time says so.

Starts `mur-graph serve` on a local model (SmolLM2 by default), then asks `mur-plain` (one model
call of up to `--tokens` tokens, streamed as reasoning) for a long text through the `openai` SDK
three times: read to the end (how much work the request is), and twice hung up after a few
reasoning deltas. After each hang-up it reads
the server process's CPU time (user + system, /proc) over two windows: a run that stopped costs
nothing in the second one. Writes results/serving/client_leaves.json.

    PYTHONPATH=. python benchmarks/checks/client_leaves.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write
from tests.processes import free_port, stop, wait_until_up

OUT = Path(__file__).resolve().parents[1] / "results" / "serving"
PROMPT = "Write a long story about a cat, then count from one to one hundred in words."


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_all(client: Any, pid: int) -> dict[str, float]:
    """The whole request read to the end: its wall and the server's CPU seconds."""
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    text = ""
    for chunk in client.chat.completions.create(
        model="mur-plain", messages=[{"role": "user", "content": PROMPT}], stream=True
    ):
        if chunk.choices:
            text += (chunk.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "server_cpu_s": round(cpu_seconds(pid) - cpu, 2),
        "reasoning_chars": len(text),
    }


def leave_early(client: Any, pid: int, deltas: int, window: float) -> dict[str, float]:
    """Hang up after `deltas` reasoning deltas; the server's CPU seconds in two windows after."""
    stream = client.chat.completions.create(
        model="mur-plain", messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    seen = 0
    for chunk in stream:
        if chunk.choices and (chunk.choices[0].delta.model_extra or {}).get("reasoning_content"):
            seen += 1
        if seen >= deltas:
            break
    stream.close()
    marks = [cpu_seconds(pid)]
    for _ in range(2):
        time.sleep(window)
        marks.append(cpu_seconds(pid))
    return {
        "deltas_read": seen,
        "server_cpu_s_first_window": round(marks[1] - marks[0], 2),
        "server_cpu_s_second_window": round(marks[2] - marks[1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--tokens", type=int, default=1500, help="token limit of the one call")
    parser.add_argument("--deltas", type=int, default=5, help="reasoning deltas read before leaving")
    parser.add_argument("--window", type=float, default=3.0, help="seconds of each CPU window")
    args = parser.parse_args(argv)
    from openai import OpenAI

    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mur-graph")),
        *("serve", "--model", args.model, "--seed", "0", "--port", str(port)),
        *("--plain-tokens", str(args.tokens)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            wait_until_up(process, f"{url}/models", log, "mur-graph serve")
            client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=600)
            whole = read_all(client, process.pid)
            left = [leave_early(client, process.pid, args.deltas, args.window) for _ in range(2)]
        finally:
            stop(process)
    rows = [{"arm": "read to the end", **whole}] + [
        {"arm": f"left after {r['deltas_read']} deltas", **r} for r in left
    ]
    columns = ["arm", "wall_s", "server_cpu_s", "server_cpu_s_first_window", "server_cpu_s_second_window"]
    for row in rows:
        for column in columns:
            row.setdefault(column, "—")
    markdown = (
        f"`mur-plain` on {args.model}, one call of up to {args.tokens} tokens; server CPU seconds "
        f"in two {args.window:g}-s windows after the client left:\n\n" + table(rows, columns)
    )
    write(
        "client_leaves",
        {"model": args.model, "tokens": args.tokens, "whole": whole, "left_early": left},
        markdown,
        OUT,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
