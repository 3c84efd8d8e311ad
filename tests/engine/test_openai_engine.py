"""The OpenAI-compatible engine against a real `vllm serve` on loopback, and its retry rules."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from camelid.engines.openai_engine import OpenAIEngine
from camelid.engines.options import EngineOptions
from camelid.errors import TemporaryFailure
from camelid.sampling import Sampling
from tests.engine.test_vllm_engine import QUESTIONS, SCORE_SCHEMA, chat
from tests.fake_openai import choice, error

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


def test_transient_failures_are_retried_and_key_sent(monkeypatch, fake_openai) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret")
    calls = []

    def flaky(body: dict, headers: dict) -> tuple:  # busy twice, then an answer
        calls.append(body)
        return error(503, "busy") if len(calls) <= 2 else choice("hi", completion_tokens=1)

    server = fake_openai(flaky)
    options = EngineOptions(engine="openai", base_url=server.url, api_key_env="MY_KEY",
                            max_retries=3)  # fmt: skip
    engine = OpenAIEngine(options, model="m")
    [result] = engine.generate([chat("hello")], Sampling(max_tokens=4))
    assert result.generations[0].text == "hi" and len(calls) == 3
    assert server.auth == ["Bearer sk-secret"] * 3
    engine.close()


def test_server_down_is_a_temporary_failure_without_the_key(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-print")
    base = f"http://127.0.0.1:{free_port()}/v1"
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=base, max_retries=1), model="m")
    with pytest.raises(TemporaryFailure) as err:
        engine.generate([chat("hello")], Sampling())
    assert str(err.value).startswith(f"{base}/chat/completions failed after 2 tries (ConnectError")
    assert "sk-do-not-print" not in str(err.value)
