"""`camelid respond` end to end on the real default model: records out, determinism by seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import camelid

pytestmark = pytest.mark.engine


def test_same_seed_same_records_whatever_the_batching(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    made = camelid("seed", "--builtin", "--limit", "6", "-o", str(seeds), "-q")
    assert made.returncode == 0, made.stderr
    args = ["respond", str(seeds), "--seed", "3", "--max-tokens", "48", "--keep-truncated",
            "--max-model-len", "1024", "--n", "2"]  # fmt: skip
    first = camelid(*args, "-o", str(tmp_path / "a.jsonl"))
    assert first.returncode == 0, first.stderr
    assert "respond: read 6, wrote 6, rejected 0" in first.stderr
    # Per-record seeds: other batches, same answers. To stdout: only records may appear there.
    second = camelid(*args, "--batch-size", "4")
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "a.jsonl").read_text() == second.stdout

    records = [json.loads(line) for line in second.stdout.splitlines()]
    inputs = [json.loads(line) for line in seeds.read_text().splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in inputs]
    for record in records:
        assert [c["model"] for c in record["completions"]] == ["smollm2-135m-instruct"] * 2
        assert all(c["text"].strip() for c in record["completions"])
        entry = record["lineage"][-1]
        assert (entry["stage"], entry["pack"], entry["model"], entry["seed"]) == (
            "respond", "plain", "smollm2-135m-instruct", 3,
        )  # fmt: skip
