"""Shared test helpers: run the real CLI in a subprocess, find the shared seed data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_TASKS = SHARED_DATA / "self_instruct_seed_tasks.jsonl"
REDTEAM_SEEDS = SHARED_DATA / "tgrt_seed_questions.jsonl"


def camelid(
    *args: str, input: str | bytes | None = None, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m camelid ARGS` as a user would; text in, text out."""
    data = input.decode() if isinstance(input, bytes) else input
    return subprocess.run(
        [sys.executable, "-m", "camelid", *args],
        input=data if data is not None else "",
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture
def cache_env(tmp_path: Path) -> dict[str, str]:
    """An isolated camelid cache for a test."""
    return {"CAMELID_CACHE": str(tmp_path / "cache")}


@pytest.fixture
def fake_openai() -> Iterator[Callable[..., FakeOpenAI]]:
    """Start fake OpenAI-compatible servers (tests/fake_openai.py); all stop with the test."""
    started: list[FakeOpenAI] = []

    def start(reply: Reply, **kw: object) -> FakeOpenAI:
        server = FakeOpenAI(reply, **kw)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
