"""Magpie on the real default model: the example script at a tiny size; every step writes
records and at least half of the queries pass the filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.engine

SIZE = 16


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_magpie_recipe(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "examples" / "magpie.sh")],
        env={
            **os.environ,
            "OUT": str(tmp_path),
            "SIZE": str(SIZE),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=1200,  # a shared, loaded 2-core box took 10 min for SIZE=16
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    kept = rows(tmp_path / "magpie.jsonl")
    rejects = rows(tmp_path / "rejects.jsonl")
    assert len(kept) + len(rejects) == SIZE
    assert len(kept) >= SIZE / 2, [r["reason"] for r in rejects]
    for record in kept:
        assert record["instruction"].strip() and record["output"].strip()
        stages = [e["stage"] for e in record["lineage"]]
        assert stages == ["magpie.query", "magpie.answer", "magpie.quality"]
        assert record["scores"]["quality"] is not None
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["queries"] == SIZE and stats["written"] == len(kept)
    assert 1 <= len(rows(tmp_path / "dataset.jsonl")) <= len(kept)
