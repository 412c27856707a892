r"""critic_refine: LLM-as-a-critic — critique the draft; if judged wrong, revise it once (spec §2.2).

Subgraph: critique_draft → (revise_step | keep_draft). The critic writes an analysis of the draft
(GenPRM's `<analyze>` format, stopped at `</analyze>`), then its verdict is read at the slot after
`\boxed{`: P(Yes) from its log-probs, or the verdict text when the log-probs carry no Yes/No. A
step judged wrong — or whose verdict is unreadable, as in the reference code — is revised once by
the policy with the critique in its prompt; the revision is kept without a second check.
Near the end of the model's context: a critique whose prompt does not fit leaves the step
unjudged (so it is revised), and a revision that does not fit keeps the draft (`context_full`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig, check_positive_int
from mur_graph.events import emit
from mur_graph.models.errors import ContextLengthError
from mur_graph.node_types import Node
from mur_graph.prompts import critique_messages, judgement_messages, revision_messages
from mur_graph.scaling.candidates import ScalingState
from mur_graph.scoring import verdict_word, yes_probability
from mur_graph.seeds import CRITIQUE_CALL, JUDGEMENT_CALL, REVISION_CALL
from mur_graph.state import CONTEXT_FULL_SELECTION, Critique, Kept, ScalingOutput, carry_tool_calls
from mur_graph.step_call import StepCall

METHOD = "critic_refine"
VERDICT_TOP_LOGPROBS = 10


@dataclass(frozen=True)
class CriticRefineSettings:
    """LLM-as-a-critic's own settings (`create_mur_graph(policy, method="critic", method_settings=...)`)."""

    critique_tokens: int = 1024
    """Token limit of the critic's analysis (the paper's analysis limit)."""

    def __post_init__(self) -> None:
        check_positive_int("critique_tokens", self.critique_tokens)


class CriticRefineState(ScalingState):
    """The parent's keys, plus the critique and the critic's tokens."""

    critique: NotRequired[Critique]
    critic_tokens: NotRequired[int]


def build_critic_refine_subgraph(
    *,
    policy: BaseChatModel,
    critic: BaseChatModel,
    default: MURConfig,
    settings: CriticRefineSettings | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the compiled LLM-as-a-critic subgraph; it writes only `kept` back to the parent."""
    settings = settings or CriticRefineSettings()
    builder = StateGraph(CriticRefineState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("critique_draft", _make_critique_draft(critic, default, settings))
    builder.add_node("revise_step", _make_revise_step(policy, default))
    builder.add_node("keep_draft", keep_draft)
    builder.add_edge(START, "critique_draft")
    builder.add_conditional_edges("critique_draft", verdict_condition)
    builder.add_edge("revise_step", END)
    builder.add_edge("keep_draft", END)
    return builder.compile(name=METHOD)


def judged_correct(p_yes: float | None, verdict: str) -> bool:
    """The critic's judgement: P(Yes) >= 0.5 when readable, else whether the verdict says Yes.

    An unreadable verdict counts as "wrong" (the reference code then refines, spec §2.2).
    """
    if p_yes is not None:
        return p_yes >= 0.5
    words = [verdict_word(token) for token in verdict.replace("}", " ").split()]
    return next((w for w in words if w is not None), None) == "yes"


def _make_critique_draft(
    critic: BaseChatModel, default: MURConfig, settings: CriticRefineSettings
) -> Node[CriticRefineState]:
    def critique_draft(state: CriticRefineState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        step = StepCall.of(state, runtime, default)
        config = step.config
        step.announce("critique")
        conversation = critique_messages(
            step.question, step.kept, state["draft"]["text"], step.fmt, open_end=step.open_end
        )
        analysis = step.sample_if_fits(
            critic,
            conversation,
            call=CRITIQUE_CALL,
            stop=["</analyze>"],
            max_tokens=settings.critique_tokens,
        )
        if analysis is None:  # no room to critique: unjudged, as an unreadable verdict
            return {"critique": None, "critic_tokens": 0}
        verdict = step.sample_if_fits(
            critic,
            judgement_messages(conversation, analysis.text),
            call=JUDGEMENT_CALL,
            stop=["}"],
            max_tokens=config.critic_tokens,
            temperature=0.0,
            top_logprobs=VERDICT_TOP_LOGPROBS,
        )
        p_yes = yes_probability(verdict.top_logprobs) if verdict else None
        verdict_text = verdict.text if verdict else ""
        critique = Critique(
            analysis=analysis.text.strip(),
            verdict=verdict_text.strip(),
            p_yes=p_yes,
            correct=judged_correct(p_yes, verdict_text),
        )
        emit(runtime.stream_writer, "critique", step=step.index, **critique)
        spent = analysis.n_tokens + (verdict.n_tokens if verdict else 0)
        return {"critique": critique, "critic_tokens": spent}

    return critique_draft


def verdict_condition(state: CriticRefineState) -> Literal["keep_draft", "revise_step"]:
    """Keep a draft judged correct; revise one judged wrong."""
    critique = state.get("critique")
    return "keep_draft" if critique is not None and critique["correct"] else "revise_step"


def keep_draft(state: CriticRefineState) -> dict[str, Any]:
    """Keep the draft the critic judged correct; only the critic's tokens were spent."""
    return {"kept": _draft_kept(state, "judged_correct")}


def _draft_kept(state: CriticRefineState, selection: str) -> Kept:
    """The draft as the kept step, `selection` saying why; the critic's tokens booked."""
    kept = Kept(
        text=state["draft"]["text"],
        uncertainty=state["gate"]["uncertainty"],
        tokens={"critic": state.get("critic_tokens", 0)},
        method=METHOD,
        keeps_draft=True,
        candidates=[],
        selected=None,
        selection=selection,
        critique=state.get("critique"),
        finish_reason=state["draft"]["finish_reason"],
    )
    carry_tool_calls(state["draft"], kept)
    return kept


def _make_revise_step(policy: BaseChatModel, default: MURConfig) -> Node[CriticRefineState]:
    def revise_step(state: CriticRefineState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        step = StepCall.of(state, runtime, default)
        critique = state.get("critique")
        analysis = critique["analysis"] if critique else ""
        step.announce("revision")
        prompt = revision_messages(
            step.question,
            step.kept,
            state["draft"]["text"],
            analysis,
            step.fmt,
            calculator=step.config.calculator,
            open_end=step.open_end,
        )
        try:
            (revised,) = step.sample_step(policy, prompt, call=REVISION_CALL)
        except ContextLengthError:  # no room to revise: the draft stays
            return {"kept": _draft_kept(state, CONTEXT_FULL_SELECTION)}
        kept = Kept(
            text=step.fmt.body(revised.text),
            uncertainty=revised.uncertainty,
            tokens={"critic": state.get("critic_tokens", 0), "revision": revised.n_tokens},
            method=METHOD,
            keeps_draft=False,
            candidates=[],
            selected=None,
            selection="revised",
            critique=critique,
            finish_reason=revised.finish_reason,
        )
        if step.config.calculator:
            kept["tool_calls"] = list(revised.tool_calls)
        return {"kept": kept}

    return revise_step
