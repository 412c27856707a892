"""A MUR run's stream read as reasoning text: the steps as they are generated, scaled steps marked.

`Reasoning.feed` takes the items of `graph.astream(..., stream_mode=["custom", "messages",
"values"], subgraphs=True)` and returns the reasoning text each one adds:

- a step's header (`Step1: `) when its draft starts (`generating`), then the draft's tokens as
  the policy streams them (`messages` of `generate_step`); the `draft` event completes what a
  model that does not stream, or a calculator result, left out;
- a scaled step: a line `⟳ step 1: m_t=… > threshold …, scaling with <method>` at the `gate`,
  then at the `step` event `⟳ kept #2 of 4 candidates (critic):` and the kept step's text;
- the fallback completion the same way as a draft (`finalize`).

Candidates, critic verdicts and rollouts are not shown as text, only counted (`usage`). Without
scaling the text is the run's `solution` followed by the step separator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

from mur_graph.ledger import ledger_totals
from mur_graph.prompts import StepFormat

LIVE_NODES = frozenset({"generate_step", "finalize"})
"""The nodes whose policy tokens are streamed as they come: the draft and the fallback."""
MARK = "⟳"
"""Opens the lines that mark a scaled step."""


class Reasoning:
    """Turns one run's stream into reasoning text, and keeps the final state."""

    def __init__(self, fmt: StepFormat, method: str) -> None:
        self.fmt = fmt
        self.method = method
        self.state: dict[str, Any] = {}
        """The run's latest full state (`values` of the top graph)."""
        self.text = ""
        """All the reasoning text returned so far."""
        self._raw = ""
        """The tokens streamed of the draft (or fallback) being generated."""
        self._live = ""
        """What of them was shown: `_raw` as the format keeps it, trailing spaces held back."""
        self._piece_open = False
        self._steps = 0

    def feed(self, item: tuple[tuple[str, ...], str, Any]) -> str:
        """Return the reasoning text that one stream item adds ("" for most)."""
        namespace, mode, data = item
        if mode == "values":
            if not namespace:
                self.state = dict(data)
            return ""
        if mode == "messages":
            message, metadata = data
            return self._live_tokens(message, metadata)
        if mode == "custom" and isinstance(data, Mapping):
            return self._event(data)
        return ""

    def finish(self) -> str:
        """Return the text the end adds: what the fallback's stream left out."""
        fallback = self.state.get("fallback")
        return self._complete(fallback["text"], self._steps) if fallback else ""

    def _say(self, text: str) -> str:
        self.text += text
        return text

    def _live_tokens(self, message: BaseMessage, metadata: Mapping[str, Any]) -> str:
        if not self._piece_open or metadata.get("langgraph_node") not in LIVE_NODES:
            return ""
        self._raw += message.text
        # Trailing spaces wait (a stop string may follow them); leading ones too where the format
        # strips its steps (headed), while an unheaded step keeps them (`StepFormat.body`).
        shown = self.fmt.body(self._raw).rstrip()
        new, self._live = shown[len(self._live) :], shown
        return self._say(new)

    def _event(self, event: Mapping[str, Any]) -> str:
        kind = event.get("event")
        if kind == "generating" and event.get("what") in ("draft", "fallback"):
            index = event["step"] if event["what"] == "draft" else self._steps
            self._piece_open, self._raw, self._live = True, "", ""
            return self._say(f"{self.fmt.header(index)} " if self.fmt.headed else "")
        if kind == "draft":
            return self._complete(event["text"], event["step"])
        if kind == "gate" and event.get("scale"):
            why = (
                f"m_t={event['uncertainty']:.3f} > threshold {_number(event['threshold'])}"
                if event.get("fired")
                else f"m_t={event['uncertainty']:.3f}, every step is scaled"
            )
            return self._say(f"\n{MARK} step {event['step']}: {why}, scaling with {self.method}\n")
        if kind == "step":
            return self._say(self._committed(event["record"]))
        return ""

    def _complete(self, text: str, index: int) -> str:
        """End the piece being streamed with `text`, its whole body as the node keeps it."""
        live, self._piece_open, self._raw, self._live = self._live, False, "", ""
        if text.startswith(live):
            return self._say(text[len(live) :])
        # The stream showed something else (a calculator result was written in): restate it.
        return self._say(f"\n{MARK} as kept: {self.fmt.format(index, text)}")

    def _committed(self, record: Mapping[str, Any]) -> str:
        self._steps = record["index"] + 1
        after = self.fmt.separator_after(cut=record.get("cut", False))
        if not record["scaled"]:
            return after
        candidates = record.get("candidates") or []
        if candidates and record.get("selected") is not None:
            how = f"#{record['selected']} of {len(candidates)} candidates ({record['selection']})"
        else:
            how = str(record.get("selection"))
        if record["text"] == self.fmt.format(record["index"], record["draft"]):
            return f"{MARK} kept {how}: the draft's text{self.fmt.separator}"
        return f"{MARK} kept {how}:\n{record['text']}{after}"


def usage(ledger: Mapping[str, int], prompt_tokens: int) -> dict[str, Any]:
    """OpenAI's `usage` of a run: every token the ledger counts is a reasoning token.

    The answer is read from the kept steps, so the reply's content costs no token of its own:
    `completion_tokens` = `reasoning_tokens` = the ledger's total (drafts kept and discarded,
    candidates, revisions, rollouts, critic verdicts, the fallback). `prompt_tokens` is the sum
    of the input tokens the models reported for their calls (0 for a model that reports none).
    """
    generated = ledger_totals(ledger)["total"]
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": generated,
        "total_tokens": prompt_tokens + generated,
        "completion_tokens_details": {"reasoning_tokens": generated},
    }


def _number(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else str(value)
