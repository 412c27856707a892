"""assess_uncertainty: m_t of the draft against the momentum M_{t-1}, and the γ gate's verdict."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mur_graph.config import MURConfig
from mur_graph.events import emit
from mur_graph.node_types import Node
from mur_graph.state import Gate, GateUpdate, MURState
from mur_graph.step_call import StepCall
from mur_graph.uncertainty import bias_corrected, gate_fires, gate_threshold, step_uncertainty


def make_assess_uncertainty(
    default: MURConfig,
) -> Node[MURState]:
    """Return the `assess_uncertainty` node."""

    def assess_uncertainty(state: MURState, *, runtime: Runtime[MURConfig]) -> GateUpdate:
        draft = state["draft"]
        if draft is None:
            msg = "assess_uncertainty needs a draft; generate_step must run first"
            raise ValueError(msg)
        step = StepCall.of(state, runtime, default)
        config, index = step.config, step.index
        uncertainty = step_uncertainty(draft["token_logprobs"])
        momentum = state.get("momentum", 0.0)
        if config.bias_correction:
            momentum = bias_corrected(momentum, config.alpha, steps_seen=index)
        fired = gate_fires(index, uncertainty, momentum, config.gamma)
        scale = {"mur": fired, "per_step": True, "cot": False, "plain": False}[config.mode]
        gate = Gate(
            uncertainty=uncertainty,
            momentum_before=momentum,
            threshold=gate_threshold(momentum, config.gamma),
            fired=fired,
            scale=scale,
        )
        emit(runtime.stream_writer, "gate", step=index, **gate)
        return {"gate": gate}

    return assess_uncertainty
