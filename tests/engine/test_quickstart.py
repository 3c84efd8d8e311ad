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


def test_quickstart_produces_a_scored_filtered_dataset(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SIZE": "4",
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
    assert len(seeds) == 4
    assert len(answers) + len(lines(tmp_path / "respond-rejects.jsonl")) == 4
    assert [r["id"] for r in scored] == [r["id"] for r in answers]
    assert all(r["scores"]["quality"] in {1, 2, 3, 4, 5} for r in scored)
    filtered = lines(tmp_path / "filtered.jsonl")
    assert [r["id"] for r in filtered] == [r["id"] for r in scored if r["scores"]["quality"] >= 3]
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["read"], stats["kept"]) == (len(scored), len(filtered))
    dropped = lines(tmp_path / "dedup-rejects.jsonl")
    assert len(dataset) + len(dropped) == len(filtered)
    assert {r["id"] for r in dataset} <= {r["id"] for r in filtered}
    assert (
        [e["stage"] for e in dataset[0]["lineage"]] == ["seed", "respond", "score"]
        if dataset
        else True
    )
    assert f"quickstart: {len(dataset)} of 4 records kept" in result.stderr
