"""Traces for the picture tests, made by running the graph on scripted models."""

from typing import Any

from mur_graph import MURConfig, create_mur_graph, paper_config
from mur_graph.result import result_document
from tests.fakes import Say, ScriptedChatModel, say, verdict

INJECTION = "<script>console.error('injected')</script><img src=x onerror=alert(1)>"


def guided_search_trace() -> dict[str, Any]:
    """Three steps, the third scaled with two candidates; step 0's text carries an HTML injection."""
    script = [
        [say(f"Let s be {INJECTION} the sum.", -1.0, -1.0)],
        [say("17 + 25 = 42.", -0.2, -0.2, -0.2)],
        [say("So it is 41.", -1.0, -0.6)],  # m=0.8 > 0.11 + ln 1.25: scaled
        [say("The answer is 41.", -0.5, -0.5, -0.5), say("The answer is <b>42</b>.", -0.3, -0.3)],
        [verdict(0.2)],
        [verdict(0.9)],
    ]
    config = MURConfig(candidates=2, gamma=0.8, alpha=0.9)
    graph = create_mur_graph(ScriptedChatModel(script=script), config=config)
    state = graph.invoke({"question": "What is 17 + 25? <i>really</i>"})
    return result_document(state, config, policy_name="scripted", critic_name="scripted", wall_time_s=0.1)


def phi_trace() -> dict[str, Any]:
    """One φ-decoding step (per-step mode) with foresight and clusters, then the fallback."""
    script = [
        [say("Let x be the sum.", -0.1)],
        [say("x = 1", -0.2), say("x = 2", -0.4), say("y", -0.3), say("z", -0.6)],
        [say("x equals one", -0.1)],
        [say("x equals one indeed", -0.5, -0.5)],
        [Say("", (-0.3,))],
        [say("completely different words here", -0.2)],
        [say("the answer is 3", -0.1)],
    ]
    config = paper_config("phi", mode="per_step", candidates=4, max_steps=1, seed=5)
    graph = create_mur_graph(ScriptedChatModel(script=script), method="phi", config=config)
    state = graph.invoke({"question": "q"})
    return result_document(state, graph.settings_record(), policy_name="scripted", critic_name="scripted")


def critic_trace() -> dict[str, Any]:
    """Step 1 critiqued (P(Yes)=0.1, analysis with markup) and revised."""
    policy = ScriptedChatModel(
        script=[
            [say("Add them.", -0.1)],
            [say("17 + 25 = 32.", -3.0)],
            [say("17 + 25 = 42, so the answer is 42", -0.4, -0.2)],
        ]
    )
    critic = ScriptedChatModel(script=[[say("The sum is <em>wrong</em>.", -0.2, -0.2)], [verdict(0.1)]])
    graph = create_mur_graph(policy, method="critic", critic=critic, config=paper_config("critic"))
    state = graph.invoke({"question": "What is 17 + 25?"})
    return result_document(
        state, graph.settings_record(), policy_name="scripted", critic_name="scripted critic"
    )
