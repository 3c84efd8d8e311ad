"""The OpenAI-compatible engine's retry rules, against a fake server (the real one: test_serve)."""

from __future__ import annotations

import socket

import pytest

from camelid.engines.openai_engine import OpenAIEngine
from camelid.engines.options import EngineOptions
from camelid.errors import TemporaryFailure
from camelid.sampling import Sampling
from tests.engine.test_vllm_engine import chat
from tests.fake_openai import choice, error


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
