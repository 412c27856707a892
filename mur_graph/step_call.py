"""One step call: what a node needs to ask a model about step t, resolved once.

Every node and scaling subgraph starts with `StepCall.of(state, runtime, default)`: the run's
settings (`context=` or the graph's default), the step format, the step's index and the steps
kept so far. Its `sample_step` and `sample` methods add what every call of step t shares: the
stop strings, the token limit, the temperature, the calculator, and a seed from the call's
coordinate in `mur_graph.seeds`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig, resolve_config
from mur_graph.events import StreamWriter, emit
from mur_graph.models.contract import sample
from mur_graph.models.errors import ContextLengthError
from mur_graph.prompts import StepFormat, plain_messages, policy_messages, step_format
from mur_graph.seeds import derive_seed
from mur_graph.tools.stepping import StepSample, as_step_sample, sample_step


@dataclass(frozen=True)
class StepCall:
    """Step t of a run: its settings, format, index and kept steps, and how to sample for it."""

    question: str
    kept: list[str]
    """The committed steps as later prompts show them (headers included): one per step, but in an
    unheaded format a step cut at its token limit is one paragraph with the step after it."""
    open_end: bool
    """The last kept paragraph was cut mid-way (unheaded formats): step t continues it."""
    index: int
    """t: the draft's index, or the next step's when there is no draft (generate_step, finalize)."""
    config: MURConfig
    """The run's settings."""
    fmt: StepFormat
    writer: StreamWriter | None

    @classmethod
    def of(cls, state: Mapping[str, Any], runtime: Runtime[MURConfig], default: MURConfig) -> StepCall:
        """Resolve step t from a node's state and runtime; `default` is the graph's settings.

        Raises:
            TypeError: the run's context is not a MURConfig.
        """
        config = resolve_config(runtime.context, default)
        fmt = step_format(config.step_format)
        records = state.get("steps", [])
        kept, open_end = fmt.paragraphs(
            [step["text"] for step in records], [step.get("cut", False) for step in records]
        )
        draft = state.get("draft")
        return cls(
            question=state["question"],
            kept=kept,
            open_end=open_end,
            index=draft["index"] if draft else len(records),
            config=config,
            fmt=fmt,
            writer=runtime.stream_writer,
        )

    def seed(self, call: int, *more: int) -> int | None:
        """The seed of call kind `call` (a `mur_graph.seeds` number) for this step, or None."""
        return derive_seed(self.config.seed, self.index, call, *more)

    def announce(self, what: str) -> None:
        """Emit the `generating` event: step t is waiting for `what` (draft, candidates, ...)."""
        emit(self.writer, "generating", step=self.index, what=what)

    @property
    def plain(self) -> bool:
        """Whether the run is `plain` mode: one unstopped call under the model's own chat template."""
        return self.config.mode == "plain"

    def policy_prompt(self) -> list[BaseMessage]:
        """The policy's prompt for step t: the question and the kept steps, continued at step t.

        In `plain` mode: the system prompt and the question, with no step format.
        """
        if self.plain:
            return plain_messages(self.question)
        return policy_messages(
            self.question,
            self.kept,
            self.index,
            self.fmt,
            calculator=self.config.calculator,
            open_end=self.open_end,
        )

    def sample_step(
        self,
        model: BaseChatModel,
        messages: Sequence[BaseMessage],
        *,
        call: int,
        n: int = 1,
        temperature: float | None = None,
    ) -> list[StepSample]:
        """Sample `n` versions of step t in one call, each ending at step t+1's header.

        The step's token limit and temperature are the run's (`temperature` overrides the latter);
        with the calculator on, each sample's calls are run (`mur_graph.tools.stepping`). In
        `plain` mode the one step is the whole solution: no stop string, `plain_tokens` tokens.
        """
        config = self.config
        return sample_step(
            model,
            messages,
            n=n,
            stop=() if self.plain else self.fmt.stops(self.index),
            max_tokens=config.plain_tokens if self.plain else config.max_step_tokens,
            temperature=config.temperature if temperature is None else temperature,
            seed=self.seed(call),
            calculator=config.calculator,
            max_calls=config.calculator_calls,
            writer=self.writer,
            step=self.index,
        )

    def sample(
        self,
        model: BaseChatModel,
        messages: Sequence[BaseMessage],
        *,
        call: int,
        more: Sequence[int] = (),
        stop: Sequence[str] | None = None,
        max_tokens: int,
        temperature: float | None = None,
        top_logprobs: int = 0,
    ) -> StepSample:
        """Sample one completion (no calculator) for step t: a critique, a verdict, a rollout...

        `temperature` defaults to the run's; `more` extends the seed's coordinates.
        """
        (generation,) = sample(
            model,
            messages,
            n=1,
            stop=stop,
            max_tokens=max_tokens,
            temperature=self.config.temperature if temperature is None else temperature,
            seed=self.seed(call, *more),
            top_logprobs=top_logprobs,
        )
        return as_step_sample(generation)

    def sample_if_fits(
        self, model: BaseChatModel, messages: Sequence[BaseMessage], **options: Any
    ) -> StepSample | None:
        """`sample`, or None when the model's context cannot hold `messages` (nothing was generated).

        Near the end of a long solution a method's own calls (a rollout, a critique, the fallback)
        degrade rather than fail the run; `sample_each(unfitting_as_none=True)` does the same for
        a batch.
        """
        try:
            return self.sample(model, messages, **options)
        except ContextLengthError:
            return None
