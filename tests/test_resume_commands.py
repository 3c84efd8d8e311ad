"""--resume for `score` and `backtranslate` (respond: test_resume.py), and what every resumed
run must refuse: another model or other sampling than the file was written with.

The commands run for real (the CLI, the openai engine over HTTP) against a fake
OpenAI-compatible server in this process whose replies depend only on the request, so a run
cut short and resumed must end with exactly the records of an uninterrupted run, and must not
ask the server again for what the file already holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai import choice, last_user_turn

RECORDS = 12
REQUESTS: list[str] = []  # the last user turn of every chat request the server answered


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def instance(schema: dict[str, Any], key: int) -> Any:
    """A value the JSON schema accepts, chosen by `key` (so: by the prompt)."""
    if "enum" in schema:
        return schema["enum"][key % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance(props[name], key + i) for i, name in enumerate(props)}
    if kind == "array":
        return [instance(schema.get("items", {}), key)] * max(1, schema.get("minItems", 1))
    if kind in ("integer", "number"):
        return key % 5 + 1
    return f"Explain what item {key % 997} in the list is for, and why it matters."


def schema_reply(body: dict, headers: dict) -> tuple:
    """A reply that fits the request's JSON schema, chosen by the prompt."""
    prompt = last_user_turn(body)
    REQUESTS.append(prompt)
    key = digest(prompt)
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
    return choice(json.dumps(instance(schema, key)) if schema else f"answer {key}",
                  completion_tokens=9)  # fmt: skip


@pytest.fixture
def server(fake_openai) -> str:
    return fake_openai(schema_reply).url


SEGMENT = "Item {i} is a small brass key. It opens the garden shed, where the tools for {i} live."
COMMANDS = {
    "score": (["score", "--rubric", "humpback", "--audit", "0"],  # controls: other requests
              lambda i: {"instruction": f"What is item {i}?", "output": SEGMENT.format(i=i)}),
    "backtranslate": (["backtranslate"], lambda i: {"output": SEGMENT.format(i=i)}),
}  # fmt: skip


def run(
    server: str, command: str, src: Path, out: Path, *extra: str
) -> subprocess.CompletedProcess:
    config = out.parent / "engine.yaml"
    config.write_text("max_retries: 0\nconcurrency: 2\n")
    args = [sys.executable, "-m", "camelid", *COMMANDS[command][0], str(src), "--engine",
            "openai", "--base-url", server, "--config", str(config), "--batch-size", "4",
            "-o", str(out), *extra]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(params=list(COMMANDS))
def command(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    name = request.param
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(COMMANDS[name][1](i)) + "\n" for i in range(RECORDS)))
    return name, src


def test_cut_short_then_resumed_equals_an_uninterrupted_run_and_asks_only_for_the_rest(
    server: str, command: tuple[str, Path], tmp_path: Path
) -> None:
    name, src = command
    reference = tmp_path / "reference.jsonl"
    assert run(server, name, src, reference).returncode == 0
    expected = lines(reference)
    assert len(expected) == RECORDS

    # What kill -9 leaves: the journal holds the first batch (4 records); the output holds it,
    # a fifth record (of a batch whose journal line never came) and a torn sixth line.
    out = tmp_path / "out.jsonl"
    journal = (tmp_path / ".reference.jsonl.resume.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / ".out.jsonl.resume.jsonl").write_text("".join(journal[:3]))  # head, start, batch 1
    kept = reference.read_text().splitlines(keepends=True)[:6]
    out.write_text("".join(kept[:5]) + kept[5][:30])
    REQUESTS.clear()
    resumed = run(server, name, src, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert lines(out) == expected  # the same records in the same order: none lost, none twice
    assert len(REQUESTS) == RECORDS - 4
    asked = {int(n) for p in REQUESTS for n in re.findall(r"\b[Ii]tem (\d+)\b", p)}
    assert asked == set(range(4, RECORDS))  # only the records the journal did not hold


def test_resume_refuses_another_model_or_other_sampling_unless_forced(
    server: str, command: tuple[str, Path], tmp_path: Path
) -> None:
    name, src = command
    out = tmp_path / "out.jsonl"
    assert run(server, name, src, out).returncode == 0
    before = out.read_bytes()
    other_model = run(server, name, src, out, "--resume", "--model", "other-model")
    assert other_model.returncode == 2
    assert (
        f"{out}: was written with other settings (model 'fake-model' -> 'other-model')"
        in other_model.stderr
    )
    hotter = run(server, name, src, out, "--resume", "--temperature", "0.9")
    assert hotter.returncode == 2
    assert f"{out}: was written with other settings (sampling " in hotter.stderr
    assert "'temperature': 0.0" in hotter.stderr and "'temperature': 0.9" in hotter.stderr
    assert out.read_bytes() == before  # refused runs leave the file as it was
    forced = run(server, name, src, out, "--resume", "--model", "other-model", "--force")
    assert forced.returncode == 0 and out.read_bytes() == before  # nothing left to do


def test_a_run_stopped_before_its_first_batch_leaves_an_existing_file_alone(
    tmp_path: Path,
) -> None:
    from camelid.errors import Terminated
    from camelid.records import make_record
    from camelid.runtime import Run, RunOptions

    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    out.write_text('{"old": true}\n')
    options = RunOptions(str(out), str(rejects))
    with pytest.raises(Terminated), Run("respond", options, resumable=True):
        raise Terminated("terminated")  # e.g. SIGTERM while the engine loads
    assert out.read_text() == '{"old": true}\n' and not rejects.exists()

    options = RunOptions(str(out), quiet=True)
    with pytest.raises(Terminated), Run("respond", options, resumable=True) as run:
        run.commit([make_record(instruction="a", output="b")])
        raise Terminated("terminated")
    assert [json.loads(line)["output"] for line in out.read_text().splitlines()] == ["b"]
