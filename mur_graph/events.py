"""Custom stream events, emitted as each decision is made (`stream_mode="custom"`).

Every event is a dict with an `event` key naming its kind:

- `generating`: a model call starts (`step`, `what`: draft | candidates | critic | critique |
  revision | rollouts | fallback).
- `draft`: the first sample of a step (`step`, `text`, `n_tokens`).
- `gate`: the γ gate's decision (`step`, `uncertainty`, `momentum_before`, `threshold`,
  `fired`, `scale`).
- `candidates`: a scaling method's candidates and scores (`step`, `method`, `candidates`,
  `selected`, `selection`).
- `critique`: LLM-as-a-critic's judgement (`step`, `analysis`, `verdict`, `p_yes`, `correct`).
- `tool_call`: a calculator call inside a step (`step`, `tool`, `input`, `output`, `error`).
- `step`: a committed step (`record`: the full `StepRecord`).
- `final`: the run's end (`answer`, `stop_reason`, `ledger`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

StreamWriter = Callable[[Any], None]


def emit(writer: StreamWriter | None, event: str, **payload: Any) -> None:
    """Send one custom event through LangGraph's stream writer (a no-op outside streaming)."""
    if writer is not None:
        writer({"event": event, **payload})
