"""The README's main job (`make demo` runs examples/quickstart.sh), at a tiny size, for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.engine


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_quickstart_produces_a_dataset_chosen_by_the_judge(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SIZE": "6",
        "OUT": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["bash", str(ROOT / "examples" / "quickstart.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seeds, answers = lines(tmp_path / "seeds.jsonl"), lines(tmp_path / "answers.jsonl")
    scored, dataset = lines(tmp_path / "scored.jsonl"), lines(tmp_path / "dataset.jsonl")
    filtered = lines(tmp_path / "filtered.jsonl")
    # Every step produced records: an empty file at the end is a failed pipeline.
    assert len(seeds) == 6 and answers and scored and filtered and dataset
    assert len(answers) + len(lines(tmp_path / "respond-rejects.jsonl")) == 6
    assert [r["id"] for r in scored] == [r["id"] for r in answers]
    assert all(1 <= r["scores"]["quality"] <= 5 for r in scored)
    assert all(r["ratings"]["quality"] in {1, 2, 3, 4, 5} for r in scored)
    # The judge chose: the kept half scores above the dropped half.
    kept_ids = {r["id"] for r in filtered}
    kept = [r["scores"]["quality"] for r in scored if r["id"] in kept_ids]
    dropped = [r["scores"]["quality"] for r in scored if r["id"] not in kept_ids]
    assert len(kept) == -(-len(scored) // 2) and dropped
    assert sum(kept) / len(kept) > sum(dropped) / len(dropped)
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["read"], stats["kept"]) == (len(scored), len(filtered))
    assert len(dataset) + len(lines(tmp_path / "dedup-rejects.jsonl")) == len(filtered)
    assert {r["id"] for r in dataset} <= kept_ids
    assert [e["stage"] for e in dataset[0]["lineage"]] == ["seed", "respond", "score"]
    audit = json.loads((tmp_path / "score-stats.json").read_text())["audit"]["mismatched"]
    assert audit["judgements"] == len(scored)
    assert "judge audit: real answers against mismatched ones" in result.stderr
    assert (f"quickstart: {len(dataset)} of 6 records kept in {tmp_path}/dataset.jsonl; the judge "
            f"rated real answers above answers to other tasks with AUC {audit['auc']:.2f}"
            in result.stderr)  # fmt: skip
    print(f"\nquickstart: {len(dataset)} kept; judge audit {audit}")
