"""Sampling a step that may call the calculator: `<<expression>>` in the text, the result filled in.

The protocol follows GSM8K's calculator annotations. The model writes `<<48/2`; generation stops
at `>>` (an extra stop string); the calculator computes `48/2` and the library writes
`=24>>` after it; the model then continues the SAME step from `...<<48/2=24>>` (the step so far
is the partial assistant message it continues). A result the model wrote itself (`<<48/2=25`)
is replaced by the calculator's. A refused or failed call writes `=error: <why>>>`.

Bounds: at most `max_calls` calls per step (at the next one the marker is closed, `<<expr>>`,
without a result, and the step ends with finish reason `tool_call_limit`), and the step's token
limit covers all of its segments together.

Uncertainty and cost: the step's log-probs are the concatenation of the segments the model
generated (never of the written results), and its token count is the sum over the segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from mur_graph.events import StreamWriter, emit
from mur_graph.models.contract import Completion, sample
from mur_graph.models.errors import ContextLengthError
from mur_graph.seeds import derive_seed
from mur_graph.state import CalculatorCall
from mur_graph.tools.calculator import calculate
from mur_graph.uncertainty import step_uncertainty

CALL_OPEN = "<<"
CALL_CLOSE = ">>"
MAX_ERROR_IN_STEP = 80
"""Characters of an error message written into the step (the trace keeps all of it)."""


@dataclass(frozen=True)
class StepSample(Completion):
    """A sampled step: its text with the results filled in, the model's own log-probs and tokens."""

    tool_calls: tuple[CalculatorCall, ...] = ()

    @property
    def uncertainty(self) -> float:
        """m_t of the sample: the mean negative log-prob of the tokens the model generated."""
        return step_uncertainty(self.token_logprobs)


def sample_step(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    n: int,
    stop: Sequence[str],
    max_tokens: int,
    temperature: float,
    seed: int | None,
    calculator: bool,
    max_calls: int,
    writer: StreamWriter | None = None,
    step: int | None = None,
) -> list[StepSample]:
    """Sample `n` versions of a step in one call; with `calculator`, run each one's calls.

    `messages` ends with the partial assistant turn the step continues (or with the user turn).
    Every sample that stopped at a call is continued on its own, call by call. Each call is
    announced as a `tool_call` event (`step`, `tool`, `input`, `output`, `error`).
    """
    stops = [*stop, CALL_CLOSE] if calculator else list(stop)
    firsts = sample(
        model, messages, n=n, stop=stops, max_tokens=max_tokens, temperature=temperature, seed=seed
    )
    if not calculator:
        return [as_step_sample(first) for first in firsts]
    steps = []
    for i, first in enumerate(firsts):
        text, logprobs, n_tokens, finish = (
            first.text,
            list(first.token_logprobs),
            first.n_tokens,
            first.finish_reason,
        )
        calls: list[CalculatorCall] = []
        while (call := pending_call(text, finish)) is not None:
            start, expression = call
            if len(calls) >= max_calls:
                why = f"not run: the step reached its limit of {max_calls} calculator calls"
                calls.append(CalculatorCall(tool="calculator", input=expression, output=None, error=why))
                emit(writer, "tool_call", step=step, **calls[-1])
                text, finish = f"{text[:start]}{expression}{CALL_CLOSE}", "tool_call_limit"
                break
            result = calculate(expression)
            calls.append(
                CalculatorCall(tool="calculator", input=expression, output=result.value, error=result.error)
            )
            emit(writer, "tool_call", step=step, **calls[-1])
            written = (
                result.value if result.value is not None else f"error: {result.error}"[:MAX_ERROR_IN_STEP]
            )
            text = f"{text[:start]}{expression}={written}{CALL_CLOSE}"
            if n_tokens >= max_tokens:
                finish = "length"
                break
            try:
                (more,) = sample(
                    model,
                    continued(messages, text),
                    n=1,
                    stop=stops,
                    max_tokens=max_tokens - n_tokens,
                    temperature=temperature,
                    seed=derive_seed(seed, i, len(calls)),
                )
            except ContextLengthError:  # the result filled the context: the step ends, its tokens kept
                finish = "length"
                break
            text, finish = text + more.text, more.finish_reason
            logprobs.extend(more.token_logprobs)
            n_tokens += more.n_tokens
        steps.append(StepSample(text, tuple(logprobs), n_tokens, finish, tool_calls=tuple(calls)))
    return steps


def pending_call(text: str, finish_reason: str | None) -> tuple[int, str] | None:
    """The call a sample stopped at: (where its expression starts, the expression), or None.

    A sample stopped at a call when it stopped at a stop string and its text ends inside an
    unclosed `<<` on the same line. The expression ends at a `=` the model wrote, if any.
    """
    if finish_reason != "stop":
        return None
    opened = text.rfind(CALL_OPEN)
    if opened < 0:
        return None
    start = opened + len(CALL_OPEN)
    tail = text[start:]
    if CALL_CLOSE in tail or "\n" in tail:
        return None
    return start, tail.split("=", 1)[0]


def continued(messages: Sequence[BaseMessage], text: str) -> list[BaseMessage]:
    """`messages` with `text` appended to the partial assistant turn (or as a new one)."""
    if messages and isinstance(messages[-1], AIMessage):
        return [*messages[:-1], AIMessage(messages[-1].text + text)]
    return [*messages, AIMessage(text)]


def as_step_sample(generation: Completion) -> StepSample:
    """A model's completion as a step sample (no calculator calls)."""
    return StepSample(**{f.name: getattr(generation, f.name) for f in fields(Completion)})
