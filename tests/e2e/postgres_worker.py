"""One process of a MUR run checkpointed on PostgreSQL: start it (and wait to be killed), or resume it.

`python -m tests.e2e.postgres_worker URL THREAD PHASE`, PHASE one of:

- `review-start`: the review graph runs steps 0 and 1 and pauses before scaling step 2; prints
  `{"paused": <the review request>}` and waits to be killed.
- `plain-start`: the plain graph commits steps 0 and 1; prints `{"generating": 2}` while the
  draft of step 2 is being generated, which never ends, and waits to be killed.
- `review-resume` / `plain-resume`: a new process resumes the thread (with the human's `scale`,
  or from its last checkpoint) and prints `{"state": ..., "remaining": ...}`; its scripted model
  holds only the calls left, so any step run again would exhaust it and fail.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from langgraph.types import Command

from mur_graph import MURConfig, create_mur_graph
from mur_graph.postgres import postgres_checkpointer
from tests.fakes import ScriptedChatModel
from tests.unit.test_graph_scripted import mur_script

CONFIG = MURConfig(candidates=2, gamma=0.8, alpha=0.9, step_format="prompted")  # the script's Step<k>: format
SCRIPTS = {
    "review-start": mur_script()[:3],  # steps 0 and 1, and step 2's draft, which trips the gate
    "review-resume": mur_script()[3:],  # step 2's candidates and their verdicts
    "plain-start": mur_script()[:2],  # steps 0 and 1; step 2's draft hangs
    "plain-resume": mur_script()[2:],  # step 2: its draft, candidates and verdicts
}


class HangingModel(ScriptedChatModel):
    """The scripted model, whose call after the script says it is generating and never returns."""

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        if self.remaining == 0:
            print(json.dumps({"generating": 2}), flush=True)
            time.sleep(600)
        return super()._generate(messages, stop, run_manager, **kwargs)


def main(url: str, thread: str, phase: str) -> None:
    model = (HangingModel if phase == "plain-start" else ScriptedChatModel)(script=SCRIPTS[phase])
    config = {"configurable": {"thread_id": thread}}
    # "sync": each superstep's checkpoint is written before the next starts, so a kill loses at
    # most the step being generated (LangGraph's default, "async", may lose the last ones too).
    durable = {"durability": "sync"}
    with postgres_checkpointer(url) as saver:
        graph = create_mur_graph(
            model, config=CONFIG, checkpointer=saver, interrupt_on_scale=phase.startswith("review")
        )
        if phase == "review-start":
            (request,) = graph.invoke({"question": "What is 17 + 25?"}, config, **durable)["__interrupt__"]
            print(json.dumps({"paused": request.value}), flush=True)
            time.sleep(600)
        elif phase == "plain-start":
            graph.invoke({"question": "What is 17 + 25?"}, config, **durable)
        else:
            resume = Command(resume={"action": "scale"}) if phase == "review-resume" else None
            state = graph.invoke(resume, config, **durable)
            print(json.dumps({"state": state, "remaining": model.remaining}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
