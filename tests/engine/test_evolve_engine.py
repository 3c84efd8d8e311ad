"""examples/evol_instruct.sh end to end on the real engine and the default model, tiny: every
step writes records, each evolution names its operation and a parent that exists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from camelid.stages.evolve.operations import BY_NAME
from tests.conftest import ROOT

pytestmark = pytest.mark.engine


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_evol_instruct_recipe(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path), "SIZE": "3", "ROUNDS": "2",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # fmt: skip
    result = subprocess.run(["bash", str(ROOT / "examples" / "evol_instruct.sh")], env=env,
                            capture_output=True, text=True, timeout=1200, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    seeds = rows(tmp_path / "seeds.jsonl")
    assert len(seeds) == 3
    records = rows(tmp_path / "evolved.jsonl")
    rejects = rows(tmp_path / "rejects.jsonl")
    assert [r["id"] for r in records[:3]] == [s["id"] for s in seeds]  # --keep-originals
    evolved = [r for r in records if r.get("source") == "evolved"]
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["rounds"]["1"]["parents"] == 3
    assert len(evolved) + len(rejects) >= 3  # every seed evolved once at least
    known = {r["id"] for r in records}
    # the candidates eliminated carry their operation and parent too
    for record in [*evolved, *(r["record"] for r in rejects if "parent" in r["record"])]:
        entry = next(e for e in reversed(record["lineage"]) if e["stage"] == "evolve")
        assert entry["operation"] in BY_NAME and entry["operation"] in record["tags"]
        assert record["parent"] == entry["parent"] and record["parent"] in known
        assert record["instruction"].strip()
    assert all(r.get("output", "x").strip() for r in evolved)
    for reject in rejects:
        assert reject["reason"] and reject["stage"] == "evolve"
    reasons = Counter(r["reason"].split(":")[0] for r in rejects)
    print(f"\n{len(evolved)} evolutions kept, {len(rejects)} eliminated: {dict(reasons)}; "
          f"rounds {stats['rounds']}")  # fmt: skip
