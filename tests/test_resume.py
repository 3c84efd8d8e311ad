"""Long runs that survive: kill -9 at random moments, SIGTERM, Ctrl-C, then --resume.

`camelid respond` runs for real (the CLI, the openai engine over HTTP) against a slow fake
OpenAI-compatible server in this process, whose answers depend only on the prompt; so an
interrupted-and-resumed run must end with exactly the records of an uninterrupted one.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import camelid
from tests.fake_openai import choice, error, last_user_turn

RECORDS = 60
KEPT = RECORDS - RECORDS // 10  # every tenth says "seven": refused


def slow_reply(body: dict, headers: dict) -> tuple:
    prompt = last_user_turn(body)
    if "seven" in prompt:  # some records are refused: they go to --rejects, also resumed
        return error(400, "prompt refused")
    return choice(f"answer to {prompt[::-1]}")


@pytest.fixture
def server(fake_openai) -> str:
    return fake_openai(slow_reply, delay=0.15).url


WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [{"instruction": f"Say {WORDS[i % 10]} for item {i}"} for i in range(RECORDS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def command(server: str, src: Path, out: Path, *extra: str) -> list[str]:
    config = out.parent / "engine.yaml"
    config.write_text("max_retries: 0\nconcurrency: 2\n")
    return [
        sys.executable, "-m", "camelid", "respond", str(src), "--engine", "openai",
        "--base-url", server, "--config", str(config), "--batch-size", "4", "-o", str(out),
        "--rejects", str(out.with_suffix(".rejects")), *extra,
    ]  # fmt: skip


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def reference(server: str, inputs: Path, tmp_path: Path) -> tuple[list[dict], list[dict]]:
    out = tmp_path / "reference.jsonl"
    done = subprocess.run(command(server, inputs, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return rows(out), rows(out.with_suffix(".rejects"))


def by_id(items: list[dict]) -> dict[str, dict]:
    key = [item.get("id") or item["record"]["id"] for item in items]
    assert len(set(key)) == len(key), "a record was written twice"
    return dict(zip(key, items, strict=True))


def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(
    server: str, inputs: Path, tmp_path: Path
) -> None:
    expected, expected_rejects = reference(server, inputs, tmp_path)
    assert len(expected) == KEPT and len(expected_rejects) == RECORDS - KEPT
    out = tmp_path / "out.jsonl"
    rng = random.Random(20261122)
    kills = 0
    written_at_kills = []
    for attempt in range(5):  # four kill -9 at random moments, then one run to the end
        extra = ("--resume",) if attempt else ()
        proc = subprocess.Popen(command(server, inputs, out, *extra), stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=rng.uniform(1.0, 3.0) if attempt < 4 else 300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
            written_at_kills.append(len(out.read_text().splitlines()) if out.exists() else 0)
            continue
        assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
        if attempt < 4:
            break  # finished before its kill point
    assert kills >= 2, "the run was never interrupted: the kill points missed it"
    assert any(0 < n < KEPT for n in written_at_kills), f"no kill mid-run: {written_at_kills}"
    assert by_id(rows(out)) == by_id(expected)
    assert by_id(rows(out.with_suffix(".rejects"))).keys() == by_id(expected_rejects).keys()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_keep_finished_work_and_say_how_to_resume(
    server: str, inputs: Path, tmp_path: Path, sig: int, code: int
) -> None:
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(command(server, inputs, out), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(rows(out)) < 4:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert f"stopped after writing {len(rows(out))} records to {out}" in err
    assert "run the same command with --resume to continue" in err
    assert 4 <= len(rows(out)) < KEPT
    again = subprocess.run(command(server, inputs, out, "--resume"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert len(by_id(rows(out))) == KEPT


def test_resume_repairs_a_torn_last_line_but_not_damage_elsewhere(
    server: str, inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    first = subprocess.run(command(server, inputs, out), capture_output=True, text=True)
    assert first.returncode == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:25])  # as kill -9 mid-write leaves it
    again = subprocess.run(command(server, inputs, out, "--resume"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert len(by_id(rows(out))) == KEPT
    damaged = out.read_text().splitlines(keepends=True)
    damaged[3] = "{not json\n"
    out.write_text("".join(damaged))
    broken = subprocess.run(
        command(server, inputs, out, "--resume"), capture_output=True, text=True
    )
    assert broken.returncode == 65
    assert f"{out}:4: invalid JSON" in broken.stderr


def test_resume_with_other_settings_is_refused_unless_forced(
    server: str, inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    assert subprocess.run(command(server, inputs, out), capture_output=True).returncode == 0
    other = subprocess.run(command(server, inputs, out, "--resume", "--seed", "3"),
                           capture_output=True, text=True)  # fmt: skip
    assert other.returncode == 2
    assert f"{out}: was written with other settings (seed 0 -> 3)" in other.stderr
    forced = subprocess.run(command(server, inputs, out, "--resume", "--seed", "3", "--force"),
                            capture_output=True, text=True)  # fmt: skip
    assert forced.returncode == 0 and len(rows(out)) == KEPT  # nothing left to do


def test_resume_needs_an_output_file(inputs: Path) -> None:
    result = camelid("respond", str(inputs), "--engine", "scripted", "--replies", str(inputs),
                     "--resume")  # fmt: skip
    assert result.returncode == 2
    assert "--resume needs -o FILE" in result.stderr
