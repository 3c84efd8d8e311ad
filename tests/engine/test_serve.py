"""`camelid serve` on the real default model: one server for many commands, answers equal to
the in-process engine's, and a server that ends with the shell that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from camelid.engines.openai_engine import OpenAIEngine
from camelid.engines.options import EngineOptions
from camelid.sampling import Sampling
from tests.conftest import camelid
from tests.engine.test_vllm_engine import QUESTIONS, SCORE_SCHEMA, chat

pytestmark = pytest.mark.engine
CONTEXT = 1024


class Served:
    def __init__(self, shell: subprocess.Popen[bytes], env: dict[str, str], pid: int) -> None:
        self.shell, self.env, self.pid = shell, env, pid

    @property
    def url(self) -> str:
        return self.env["CAMELID_BASE_URL"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`camelid serve` as a user's shell runs it: `camelid serve > serve.env`, then the shell
    goes on (here: sleeps); the server is the shell's until the shell ends."""
    folder = tmp_path_factory.mktemp("serve")
    exports = folder / "serve.env"
    # float32 on both sides: bf16 kernels round by batch shape, and the server batches
    # requests as they arrive (see test_respond_cli).
    camelid_cmd = (
        f"{sys.executable} -m camelid serve --max-model-len {CONTEXT} --seed 0 --dtype float32"
    )
    shell = subprocess.Popen(["bash", "-c", f"{camelid_cmd} > {exports} && sleep 3600"],
                             stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and "CAMELID_MODEL" not in _read(exports):
        if shell.poll() is not None:
            pytest.fail(f"camelid serve failed: {shell.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
        time.sleep(1)
    env = dict(line.removeprefix("export ").split("=", 1) for line in _read(exports).splitlines())
    [server] = [s for s in json.loads(camelid("serve", "--list", "--json").stdout)
                if s["url"] == env["CAMELID_BASE_URL"]]  # fmt: skip
    yield Served(shell, env, server["pid"])
    if shell.poll() is None:
        shell.kill()
    camelid("serve", "--stop", "--port", env["CAMELID_BASE_URL"].rsplit(":", 1)[1].split("/")[0])


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_exports_name_the_served_model(served: Served) -> None:
    assert served.env["CAMELID_ENGINE"] == "openai"
    assert served.env["CAMELID_MODEL"] == "smollm2-135m-instruct"
    assert served.url.startswith("http://127.0.0.1:") and served.url.endswith("/v1")


def test_real_server_chat_n_structured_and_too_long(served: Served) -> None:
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=served.url, concurrency=4))
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


def test_served_answers_equal_the_in_process_ones(served: Served, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    assert camelid("seed", "--builtin", "--limit", "6", "-o", str(seeds), "-q").returncode == 0
    args = ["respond", str(seeds), "--seed", "5", "--max-tokens", "48", "--keep-truncated", "-q"]
    local = camelid(*args, "--max-model-len", str(CONTEXT), "--dtype", "float32")
    remote = camelid(*args, env=served.env)
    assert local.returncode == 0 and remote.returncode == 0, local.stderr + remote.stderr
    ours = [json.loads(line) for line in local.stdout.splitlines()]
    theirs = [json.loads(line) for line in remote.stdout.splitlines()]
    assert len(ours) == 6
    assert [r["output"] for r in ours] == [r["output"] for r in theirs]
    assert {r["lineage"][-1]["model"] for r in ours + theirs} == {"smollm2-135m-instruct"}


def test_the_server_ends_with_the_shell_that_started_it(served: Served) -> None:
    engine_processes = [served.pid] + [p.pid for p in psutil.Process(served.pid).children(True)]
    os.kill(served.shell.pid, signal.SIGKILL)  # the terminal closed, the job was preempted
    served.shell.wait()
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and any(map(_running, engine_processes)):
        time.sleep(0.5)
    assert not [p for p in engine_processes if _running(p)], "the server outlived its shell"
    assert camelid("serve", "--list").stderr.strip() == "no servers running"


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
