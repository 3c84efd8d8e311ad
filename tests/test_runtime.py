"""The one runtime under every command: file modes, --stats, the resume journal, stopping
promptly, a dead engine, and the openai engine's manners (Retry-After, odd error bodies)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from camelid.records import Record, make_record
from camelid.runtime import Run, RunOptions
from tests.conftest import camelid
from tests.fake_openai import choice, error, last_user_turn


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_get_the_usual_mode_and_an_overwritten_file_keeps_its_own(tmp_path: Path) -> None:
    out, stats, kept = tmp_path / "new.jsonl", tmp_path / "s.json", tmp_path / "kept.jsonl"
    kept.write_text("old\n")
    kept.chmod(0o640)
    umask = os.umask(0o022)
    try:
        for target in (out, kept):
            result = camelid("seed", "--builtin", "--limit", "2", "-o", str(target),
                             "--stats", str(stats), "-q")  # fmt: skip
            assert result.returncode == 0, result.stderr
    finally:
        os.umask(umask)
    assert (mode(out), mode(kept), mode(stats)) == (0o644, 0o640, 0o644)
    assert len(kept.read_text().splitlines()) == 2


def test_every_command_writes_stats(tmp_path: Path) -> None:
    seeds, stats = tmp_path / "seeds.jsonl", tmp_path / "stats.json"
    assert camelid("seed", "--builtin", "--limit", "3", "-o", str(seeds), "-q").returncode == 0
    replies = tmp_path / "replies.jsonl"
    replies.write_text('"An answer."\n')
    result = camelid("respond", str(seeds), "--engine", "scripted", "--replies", str(replies),
                     "--stats", str(stats), "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(stats.read_text())
    assert report["seconds"] >= 0
    del report["seconds"]
    assert report == {"command": "respond", "read": 3, "written": 3, "rejected": 0,
                      "skipped": 0, "reasons": {}}  # fmt: skip


def test_journal_cuts_a_half_written_batch_and_keeps_stage_state(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    records = [make_record(instruction=f"task {i}") for i in range(6)]
    with Run("t", RunOptions(str(out), quiet=True), resumable=True) as run:
        run.commit(records[:3], done=[r.id for r in records[:3]], state={"round": 0})
    with out.open("a") as f:  # a later batch written, its journal line never came; then torn
        f.write(records[3].model_dump_json() + "\n" + '{"instruction": "ta')
    options = RunOptions(str(out), quiet=True, resume=True)
    with Run("t", options, resumable=True) as run:
        assert run.done == {r.id for r in records[:3]}
        assert run.states() == [{"round": 0}]
        assert [r.instruction for r in run.existing] == ["task 0", "task 1", "task 2"]
        todo = list(run.pending(records))
        run.commit(todo, done=[r.id for r in todo], state={"round": 1})
    rows = [Record.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [r.instruction for r in rows] == [f"task {i}" for i in range(6)]


def test_resume_refuses_a_file_written_by_another_command_or_without_journal(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    with Run("score", RunOptions(str(out), quiet=True), resumable=True) as run:
        run.commit([make_record(instruction="a")], done=["x"])
    with pytest.raises(Exception, match="was written by `camelid score`, not `camelid respond`"):
        Run("respond", RunOptions(str(out), resume=True), resumable=True)
    other = tmp_path / "other.jsonl"
    other.write_text('{"instruction": "a"}\n')
    with pytest.raises(Exception, match="cannot resume: no resume journal"):
        Run("respond", RunOptions(str(other), resume=True), resumable=True)


def openai_respond(server: str, src: Path, out: Path, *extra: str) -> list[str]:
    config = out.parent / "engine.yaml"
    config.write_text("max_retries: 2\nconcurrency: 2\n")
    return [sys.executable, "-m", "camelid", "respond", str(src), "--engine", "openai",
            "--base-url", server, "--config", str(config), "--batch-size", "4",
            "-o", str(out), *extra]  # fmt: skip


def inputs(tmp_path: Path, n: int) -> Path:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Say {i}"}) + "\n" for i in range(n)))
    return src


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_openai_run_ends_at_once_not_after_its_queued_requests(
    tmp_path: Path, fake_openai, sig: int, code: int
) -> None:
    def reply(body: dict, headers: dict) -> tuple:
        number = int(last_user_turn(body).split()[-1])
        time.sleep(0 if number < 4 else 30)  # the first batch is quick, the rest very slow
        return choice(f"answer {number}")

    server = fake_openai(reply)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(openai_respond(server.url, inputs(tmp_path, 12), out),
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(server.bodies) < 6:
        time.sleep(0.05)  # the second batch is being asked for
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == code, err
    assert took < 10, f"took {took:.1f} s to stop"  # not the 30 s each queued request holds
    assert [json.loads(x)["output"] for x in out.read_text().splitlines()] == [
        f"answer {i}" for i in range(4)
    ]
    assert f"stopped after writing 4 records to {out}" in err


def test_a_server_that_goes_down_keeps_finished_batches_and_exits_75(
    tmp_path: Path, fake_openai
) -> None:
    def reply(body: dict, headers: dict) -> tuple:
        number = int(last_user_turn(body).split()[-1])
        return choice(f"answer {number}") if number < 4 else error(503, "overloaded")

    server = fake_openai(reply)
    out, src = tmp_path / "out.jsonl", inputs(tmp_path, 8)
    done = subprocess.run(openai_respond(server.url, src, out), capture_output=True, text=True)
    assert done.returncode == 75, done.stderr
    assert len(out.read_text().splitlines()) == 4
    lines = done.stderr.splitlines()
    assert lines[-2] == (f"respond: stopped after writing 4 records to {out}; run the same "
                         "command with --resume to continue")  # fmt: skip
    assert lines[-1].startswith(
        f"camelid: error: {server.url}/chat/completions failed after 3 tries"
    )
    assert "Traceback" not in done.stderr


def test_a_dead_vllm_engine_is_a_temporary_failure() -> None:
    from camelid.engines.vllm_engine import engine_failure
    from camelid.errors import TemporaryFailure

    class EngineDeadError(Exception):  # vLLM's own, named as vLLM names it
        pass

    try:
        try:
            raise TimeoutError("RPC call to execute_model timed out.")
        except TimeoutError as cause:
            raise EngineDeadError("EngineCore encountered an issue.") from cause
    except EngineDeadError as exc:
        failure = engine_failure(exc)
    assert isinstance(failure, TemporaryFailure) and failure.exit_code == 75
    assert str(failure) == (
        "the vLLM engine died (EngineDeadError; TimeoutError: RPC call to execute_model timed out.)"
    )
    assert engine_failure(ValueError("a bug")).__class__ is ValueError  # not hidden as temporary


def test_retry_after_is_honoured(fake_openai) -> None:
    from camelid.engines.openai_engine import OpenAIEngine
    from camelid.engines.options import EngineOptions
    from camelid.sampling import Sampling

    def reply(body: dict, headers: dict) -> tuple:
        if len(server.bodies) == 1:
            return error(429, "slow down", {"Retry-After": "2"})
        return choice("fine")

    server = fake_openai(reply)
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=server.url, max_retries=1),
                          model="m")  # fmt: skip
    [result] = engine.generate([[{"role": "user", "content": "hi"}]], Sampling())
    assert result.generations[0].text == "fine"
    assert server.times[1] - server.times[0] >= 2.0  # the wait the server asked for, at least


@pytest.mark.parametrize("body", [["not", "an", "object"], "just text", 42])
def test_an_error_body_that_is_not_an_object_is_a_reason_not_a_traceback(
    fake_openai, body: object
) -> None:
    from camelid.engines.openai_engine import OpenAIEngine
    from camelid.engines.options import EngineOptions
    from camelid.sampling import Sampling

    server = fake_openai(lambda b, h: (400, body))
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=server.url), model="m")
    [result] = engine.generate([[{"role": "user", "content": "hi"}]], Sampling())
    text = body if isinstance(body, str) else json.dumps(body) if isinstance(body, list) else "42"
    assert result.error == f"server refused the request (HTTP 400): {text}"
