"""Secrets and trust: the API key never reaches output, rejects, lineage or stderr; model code
from a model's folder runs only with --trust-remote-code.

The openai engine runs against a fake OpenAI-compatible server in this process, which answers,
refuses (400) or is busy (503) depending on the prompt, and records the key it was sent.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import camelid
from tests.fake_openai import FakeOpenAI, choice, error, last_user_turn

KEY_ENV = "CAMELID_TEST_API_KEY"


def answers(echo: bool = False) -> Callable[[dict, dict], tuple]:
    """A chat request is answered, refused or busy by its prompt; a careless server (or proxy)
    with echo=True repeats the credentials it was sent."""

    def reply(body: dict, headers: dict) -> tuple:
        prompt = last_user_turn(body)
        said = f" (you sent {headers.get('Authorization', '')!r})" if echo else ""
        if "refuse" in prompt:
            return error(400, f"prompt is too long{said}")
        if "surrogate" in prompt:  # \ud800 alone: stdlib json (httpx) decodes it as is
            return 200, {"choices": [{"index": 0, "message": {"content": "bad \ud800 text"}}]}
        if "busy" in prompt:
            return error(503, f"server is busy{said}")
        return choice("fine")

    return reply


@pytest.fixture
def fake(fake_openai) -> FakeOpenAI:
    return fake_openai(answers())


@pytest.fixture
def server(fake: FakeOpenAI) -> str:
    return fake.url


def respond(tmp: Path, base_url: str, key: str, *instructions: str) -> tuple[object, str]:
    """Run `camelid respond` on the openai engine; return the result and everything it wrote."""
    src, out, rejects = tmp / "in.jsonl", tmp / "out.jsonl", tmp / "rejects.jsonl"
    src.write_text("".join(json.dumps({"instruction": i}) + "\n" for i in instructions))
    config = tmp / "engine.yaml"
    config.write_text("max_retries: 0\n")  # no backoff sleeps in a test
    result = camelid(
        "respond", str(src), "--engine", "openai", "--base-url", base_url,
        "--api-key-env", KEY_ENV, "--config", str(config),
        "-o", str(out), "--rejects", str(rejects), env={KEY_ENV: key},
    )  # fmt: skip
    written = "".join(p.read_text() for p in (out, rejects) if p.exists())
    return result, result.stdout + result.stderr + written


def new_key() -> str:
    return f"sk-camelid-test-{secrets.token_hex(12)}"


def test_key_is_sent_but_never_written(tmp_path: Path, server: str, fake: FakeOpenAI) -> None:
    key = new_key()
    result, everything = respond(tmp_path, server, key, "say hi", "refuse this one")
    assert result.returncode == 0, result.stderr
    assert set(fake.auth) == {f"Bearer {key}"}  # the key was really in play
    [record] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert record["output"] == "fine" and record["lineage"][0]["model"] == "fake-model"
    [reject] = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert reject["reason"] == "server refused the request (HTTP 400): prompt is too long"
    assert key not in everything and key[-12:] not in everything


def test_key_is_not_in_the_error_when_the_server_stays_down(
    tmp_path: Path, server: str, fake: FakeOpenAI
) -> None:
    key = new_key()
    result, everything = respond(tmp_path, server, key, "busy now")
    assert result.returncode == 75
    assert result.stderr == (
        f"camelid: error: {server}/chat/completions failed after 1 tries "
        "(HTTP 503: server is busy)\n"
    )
    assert fake.auth[-1] == f"Bearer {key}" and key not in everything
    assert not (tmp_path / "out.jsonl").exists()


def test_key_echoed_by_the_server_is_redacted(tmp_path: Path, fake_openai) -> None:
    server = fake_openai(answers(echo=True)).url
    key = new_key()
    result, everything = respond(tmp_path, server, key, "say hi", "refuse this one")
    assert result.returncode == 0, result.stderr
    assert key not in everything
    result, everything = respond(tmp_path, server, key, "busy now")
    assert result.returncode == 75 and key not in everything


def test_key_with_stray_whitespace_never_printed(tmp_path: Path, server: str) -> None:
    # e.g. read from a file saved with Windows line endings
    key = new_key() + "\r"
    result, everything = respond(tmp_path, server, key, "say hi")
    assert key.strip() not in everything, result.stderr


def test_lone_surrogate_in_a_reply_does_not_kill_the_run(tmp_path: Path, server: str) -> None:
    # Either fix is fine: the reply is rejected with a reason, or the code point becomes U+FFFD.
    result, _ = respond(tmp_path, server, new_key(), "say hi", "send a surrogate")
    assert result.returncode == 0, result.stderr[-500:]
    lines = [
        json.loads(line)
        for file in ("out.jsonl", "rejects.jsonl")
        if (tmp_path / file).exists()
        for line in (tmp_path / file).read_bytes().decode("utf-8").split("\n")[:-1]
    ]
    assert len(lines) == 2 and lines[0]["output"] == "fine"


# --- remote code ------------------------------------------------------------------------

FAKE_VLLM = """
import json, os

class LLM:
    def __init__(self, **kwargs):
        with open(os.environ["FAKE_VLLM_KWARGS"], "w") as f:
            json.dump(kwargs, f)
        raise ValueError("fake vLLM loads nothing")
"""
FAKE_PLATFORMS = """
class _Cpu:
    def is_cpu(self):
        return True

current_platform = _Cpu()
"""


@pytest.fixture
def fake_vllm(tmp_path: Path) -> dict[str, str]:
    """A stand-in `vllm` package first on the path: it records how LLM() was called."""
    package = tmp_path / "fake" / "vllm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_VLLM)
    (package / "platforms.py").write_text(FAKE_PLATFORMS)
    path = os.pathsep.join(p for p in (str(package.parent), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "FAKE_VLLM_KWARGS": str(tmp_path / "kwargs.json")}


@pytest.mark.parametrize(
    ("flags", "env", "config", "trusted"),
    [
        ([], {}, None, False),
        (["--trust-remote-code"], {}, None, True),
        ([], {}, "trust_remote_code: true\n", True),
        ([], {"CAMELID_TRUST_REMOTE_CODE": "1"}, None, False),  # never from the environment
    ],
    ids=["default", "flag", "config", "env-ignored"],
)
def test_remote_code_only_when_asked(
    tmp_path: Path,
    fake_vllm: dict[str, str],
    flags: list[str],
    env: dict[str, str],
    config: str | None,
    trusted: bool,
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    if config is not None:
        (tmp_path / "engine.yaml").write_text(config)
        flags = [*flags, "--config", str(tmp_path / "engine.yaml")]
    result = camelid(
        "respond", "-", "--model", str(model), *flags,
        input='{"instruction": "hi"}\n', env={**fake_vllm, **env},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"camelid: error: vLLM could not load model '{model}': fake vLLM loads nothing\n"
    )
    kwargs = json.loads(Path(fake_vllm["FAKE_VLLM_KWARGS"]).read_text())
    assert kwargs["model"] == str(model) and kwargs["trust_remote_code"] is trusted
