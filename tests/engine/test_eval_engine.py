"""`eval` end to end on the real default model: the model against itself, judged by itself."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import SEED_TASKS, camelid

pytestmark = pytest.mark.engine


def test_the_default_model_against_itself_shows_no_difference(tmp_path) -> None:
    rows = [json.loads(line) for line in SEED_TASKS.read_text().splitlines()][:12]
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(
        json.dumps({"id": r["id"], "instruction": r["instruction"],
                    "input": r["instances"][0]["input"]}) + "\n"
        for r in rows
    ))  # fmt: skip
    out, stats = tmp_path / "judged.jsonl", tmp_path / "stats.json"
    started = time.monotonic()
    result = camelid(
        "eval", str(prompts), "--model", "a=smollm2-135m-instruct",
        "--model", "b=smollm2-135m-instruct", "--max-tokens", "48", "--dtype", "float32",
        "-o", str(out), "--stats", str(stats), "--rejects", str(tmp_path / "rejects.jsonl"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in rows]  # every prompt judged
    for record in records:
        assert [c["model"] for c in record["completions"]] == ["a", "b"]
        assert all(c["text"].strip() for c in record["completions"])
        assert [v["order"] for v in record["votes"]] == ["AB", "BA"]
        assert record["outcome"] in ("A", "B", "tie")
    report = json.loads(stats.read_text())
    assert (report["written"], report["rejected"], report["prompts"]) == (12, 0, 12)
    assert report["wins"] + report["losses"] + report["ties"] == 12
    low, high = report["win_rate_interval"]
    assert low <= 0.5 <= high  # a model against itself: no difference shown
    assert "win rate of A" in result.stderr
    assert result.stderr.count("loading smollm2-135m-instruct") == 1  # A, B and the judge: one load
    print(f"\neval of 12 prompts in {time.monotonic() - started:.0f} s: {report}")
