"""The OpenAI-compatible engine against a real `vllm serve` on loopback, and its retry rules."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from camelid.engines.openai_engine import OpenAIEngine
from camelid.engines.options import EngineOptions
from camelid.errors import TemporaryFailure
from camelid.sampling import Sampling
from tests.engine.test_vllm_engine import QUESTIONS, SCORE_SCHEMA, chat

CONTEXT = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory) -> Iterator[str]:
    from camelid.models import DEFAULT_MODEL, resolve_model

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", resolve_model(DEFAULT_MODEL), "--served-model-name", DEFAULT_MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--enforce-eager",
        "--max-model-len", str(CONTEXT), "--seed", "0", "--no-enable-chunked-prefill",
    ]  # fmt: skip
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"vllm serve exited {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(2)
        else:
            pytest.fail(f"vllm serve did not come up:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.engine
def test_real_server_chat_n_structured_and_too_long(vllm_server: str) -> None:
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=vllm_server, concurrency=4))
    assert engine.model == "smollm2-135m-instruct"  # asked of the server's /models
    prompts = [chat(q) for q in QUESTIONS] + [chat("word " * (CONTEXT + 50))]
    results = engine.generate(prompts, Sampling(max_tokens=32, n=2))
    for result in results[:-1]:
        assert result.ok and len(result.generations) == 2
        assert all(
            g.text.strip() and g.finish_reason in {"stop", "length"} for g in result.generations
        )
    assert not results[-1].ok
    assert results[-1].error.startswith("server refused the request (HTTP 400): ")
    judged = engine.generate(
        [chat(f"Rate 1-5 as JSON with reason and score: {q}") for q in QUESTIONS],
        Sampling(max_tokens=200, json_schema=SCORE_SCHEMA),
    )
    for result in judged:
        value = json.loads(result.generations[0].text)
        assert value["score"] in range(1, 6)
    raw = engine.generate(["Colours: red, green,"], Sampling(max_tokens=4, temperature=0))
    assert raw[0].ok and raw[0].generations[0].completion_tokens <= 4
    engine.close()


class FlakyHandler(BaseHTTPRequestHandler):
    """Answers 503 twice, then a chat completion; counts what it saw."""

    calls = 0
    auth: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        type(self).calls += 1
        type(self).auth.append(self.headers.get("Authorization", ""))
        self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).calls <= 2:
            self._send(503, {"error": {"message": "busy"}})
        else:
            choice = {"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}
            self._send(
                200, {"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
            )

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_transient_failures_are_retried_and_key_sent(monkeypatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/v1"
        options = EngineOptions(engine="openai", base_url=base, api_key_env="MY_KEY", max_retries=3)
        engine = OpenAIEngine(options, model="m")
        [result] = engine.generate([chat("hello")], Sampling(max_tokens=4))
        assert result.generations[0].text == "hi" and FlakyHandler.calls == 3
        assert FlakyHandler.auth == ["Bearer sk-secret"] * 3
    finally:
        server.shutdown()


def test_server_down_is_a_temporary_failure_without_the_key(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-print")
    base = f"http://127.0.0.1:{free_port()}/v1"
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=base, max_retries=1), model="m")
    with pytest.raises(TemporaryFailure) as err:
        engine.generate([chat("hello")], Sampling())
    assert str(err.value).startswith(f"{base}/chat/completions failed after 2 tries (ConnectError")
    assert "sk-do-not-print" not in str(err.value)
