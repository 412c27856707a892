"""The call cache: replayed calls give the very same runs, cost no model call, and are charged."""

import asyncio
import hashlib
import subprocess
import sys
import threading

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from mur_graph import create_mur_graph, paper_config
from mur_graph.cli import main
from mur_graph.eval.results import ResultsFile, read_records
from mur_graph.eval.runner import run_eval
from mur_graph.models.base import LocalChatModel
from mur_graph.models.call_cache import CallCache, call_key, using_call_cache
from mur_graph.models.contract import sample
from tests.unit.test_eval_runner import problems


class Stepper(BaseChatModel):
    """A deterministic model whose samples depend on the prompt, the seed and the sample's index.

    Step texts are "work N" (N from a hash), so the runs at different γ scale different steps; the
    fourth step answers. Each call sleeps `delay` seconds, so its cost can be replayed.
    """

    delay: float = 0.0
    _calls: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "stepper"

    @property
    def calls(self) -> int:
        return self._calls

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        with self._lock:
            self._calls += 1
        if self.delay:
            threading.Event().wait(self.delay)
        prompt = "\n".join(m.text for m in messages)
        generations = []
        for i in range(kwargs.get("n", 1)):
            digest = hashlib.sha256(f"{prompt}|{kwargs.get('seed')}|{i}".encode()).digest()
            text = "the answer is 4" if prompt.count("work ") >= 3 else f"work {digest[0]}"
            logprobs = [-(digest[j] / 64) for j in range(1, 4)]
            content = [{"token": f"t{j}", "logprob": lp, "top_logprobs": []} for j, lp in enumerate(logprobs)]
            metadata = {"logprobs": {"content": content}, "finish_reason": "stop"}
            generations.append(ChatGeneration(message=AIMessage(content=text, response_metadata=metadata)))
        return ChatResult(generations=generations)


CONFIDENCE = {"critic_kind": "confidence"}
QUESTIONS = problems("What is 2 + 2?", "What is 1 + 3?")
CELLS = [
    paper_config("guided_search", mode=mode, seed=0, **more)
    for mode, more in [
        ("per_step", {}),
        ("mur", {"gamma": 0.6}),
        ("mur", {"gamma": 0.8}),
        ("mur", {"gamma": 1.0}),
    ]
]


def run_cells(model, folder, cache=None):
    """Run every cell on QUESTIONS; return each cell's records and the model calls it made."""
    out = []
    with using_call_cache(cache):
        for number, config in enumerate(CELLS):
            before = model.calls
            with ResultsFile(folder / f"{number}.jsonl") as results:
                graph = create_mur_graph(model, config=config, method_settings=CONFIDENCE)
                asyncio.run(run_eval(QUESTIONS, graph, config, results, dataset="toy"))
            out.append((read_records(folder / f"{number}.jsonl"), model.calls - before))
    return out


def same_run(record):
    """A record without what differs between an asked and a replayed run: the times."""
    result = {k: v for k, v in record["result"].items() if k != "wall_time_s"}
    return {**{k: v for k, v in record.items() if k not in ("wall_time_s", "replayed")}, "result": result}


def test_cells_sharing_a_cache_run_exactly_as_without_it_and_ask_only_new_calls(tmp_path):
    (tmp_path / "plain").mkdir()
    plain = run_cells(Stepper(), tmp_path / "plain")
    model = Stepper()
    with CallCache(tmp_path / "calls.sqlite") as cache:
        cached = run_cells(model, tmp_path / "cached", cache)
        stored = len(cache)
    for (records, asked), (cached_records, cached_asked) in zip(plain, cached, strict=True):
        assert [same_run(r) for r in cached_records] == [same_run(r) for r in records]
        replayed = sum(r["replayed"]["calls"] for r in cached_records)
        assert cached_asked + replayed == asked  # every call the run needs: asked now or replayed
    assert "replayed" not in plain[0][0][0]
    assert cached[0][0][0]["replayed"] == {"calls": 0, "seconds": 0.0}  # the first cell asks all
    assert model.calls == stored < sum(asked for _, asked in plain)
    assert all(sum(r["replayed"]["calls"] for r in records) > 0 for records, _ in cached[1:])


def test_a_replayed_call_is_charged_the_seconds_it_took(tmp_path):
    config = CELLS[1]
    models = {"first": Stepper(delay=0.05), "again": Stepper(delay=0.05)}
    with CallCache(tmp_path / "calls.sqlite") as cache, using_call_cache(cache):
        for name, model in models.items():
            with ResultsFile(tmp_path / f"{name}.jsonl") as results:
                graph = create_mur_graph(model, config=config, method_settings=CONFIDENCE)
                asyncio.run(run_eval(QUESTIONS[:1], graph, config, results, dataset="toy"))
    (first,) = read_records(tmp_path / "first.jsonl")
    (again,) = read_records(tmp_path / "again.jsonl")
    assert first["replayed"]["calls"] == 0 and models["again"].calls == 0
    assert again["replayed"]["calls"] == models["first"].calls > 0
    assert again["replayed"]["seconds"] >= 0.05 * again["replayed"]["calls"]  # each call slept 0.05 s
    assert again["wall_time_s"] >= again["replayed"]["seconds"]


def test_only_reproducible_calls_are_stored(tmp_path):
    messages = [HumanMessage("What is 2 + 2?")]
    model = Stepper()
    with CallCache(tmp_path / "calls.sqlite") as cache, using_call_cache(cache):
        for _ in range(2):  # an unseeded draw at temperature > 0 is a new sample every time
            sample(model, messages, max_tokens=8, temperature=0.6)
        assert (model.calls, len(cache)) == (2, 0)
        for _ in range(2):  # seeded, and greedy: asked once
            sample(model, messages, max_tokens=8, temperature=0.6, seed=1)
            sample(model, messages, max_tokens=8, temperature=0.0)
        assert (model.calls, len(cache)) == (4, 2)


class Weights(LocalChatModel):
    """A local model that names its weights file, as ChatLlamaCpp does (never asked here)."""

    model_path: str = "a.gguf"

    @property
    def _llm_type(self) -> str:
        return "weights"

    def _weights(self):
        return {"model_path": self.model_path}

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        msg = "not asked"
        raise AssertionError(msg)


def test_the_key_holds_the_model_the_messages_and_every_setting():
    messages = [HumanMessage("What is 2 + 2?")]
    settings = {"n": 1, "stop": [], "max_tokens": 8, "temperature": 0.6, "seed": 1, "top_logprobs": 0}
    key = call_key(Weights(), messages, settings)
    assert key == call_key(Weights(model_path="a.gguf"), messages, settings)
    other_models = [Weights(model_path="b.gguf"), Weights(stop=["x"]), Weights(chat_template_kwargs={})]
    assert all(key != call_key(model, messages, settings) for model in other_models)
    assert key != call_key(Weights(), [HumanMessage("What is 2 + 3?")], settings)
    for name, value in [("n", 2), ("stop", ["\n"]), ("max_tokens", 9), ("seed", 2), ("top_logprobs", 5)]:
        assert key != call_key(Weights(), messages, {**settings, name: value}), name
    assert call_key(Weights(), messages, {**settings, "seed": None}) is None


def test_processes_share_one_file(tmp_path):
    path = tmp_path / "calls.sqlite"
    writer = (
        "import sys; from mur_graph.models.call_cache import CallCache\n"
        "with CallCache(sys.argv[1]) as cache: cache.put('k', [{'text': 'hi'}], 1.5)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True)
    with CallCache(path) as cache:
        assert cache.get("k") == ([{"text": "hi"}], 1.5)
        cache.put("k", [{"text": "other"}], 9.0)  # a call stored first is kept
        assert cache.get("k") == ([{"text": "hi"}], 1.5)


def test_the_cli_refuses_an_unseeded_cache_and_an_unusable_file(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "q", "input": "What is 1 + 1?", "target": "2"}\n')
    base = ["eval", "--dataset", str(data), "--out", str(tmp_path / "out")]
    assert main([*base, "--call-cache", str(tmp_path / "c.sqlite")]) == 2
    assert "--call-cache replays seeded calls only; pass --seed" in capsys.readouterr().err
    assert main([*base, "--seed", "0", "--call-cache", str(tmp_path)]) == 2
    assert f"--call-cache {tmp_path}: unable to open database file" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but long enough for SQLite to read a header from it\n" * 2)
    assert main([*base, "--seed", "0", "--call-cache", str(text)]) == 2
    assert f"--call-cache {text}: file is not a database" in capsys.readouterr().err
