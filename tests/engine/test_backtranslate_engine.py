"""`camelid seed` on real documentation, then `backtranslate` on the real default model."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

from camelid.stages.backtranslate.filters import instruction_problem
from tests.conftest import camelid

pytestmark = pytest.mark.engine

# Human-written prose that is on every machine running these tests: the module docstrings of
# the standard library (fixed for a given Python version).
MODULES = ("heapq", "json", "argparse", "difflib", "sched", "calendar", "csv", "getopt",
           "fnmatch", "colorsys", "optparse", "shutil")  # fmt: skip
CONTEXT = 2048


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_documentation_segments_get_instructions(tmp_path: Path) -> None:
    doc = tmp_path / "stdlib.md"
    doc.write_text(
        "".join(f"# {m}\n\n{inspect.getdoc(importlib.import_module(m))}\n\n" for m in MODULES)
    )
    segments_file = tmp_path / "segments.jsonl"
    made = camelid("seed", str(doc), "-o", str(segments_file), "-q")
    assert made.returncode == 0, made.stderr
    segments = lines(segments_file)
    assert len(segments) >= 10
    # One segment far too long for the context: rejected with the reason, neighbours go on.
    too_long = {"output": "The heap invariant holds for every index. " * 400}
    with segments_file.open("a") as f:
        f.write(json.dumps(too_long) + "\n")

    out, rejects = tmp_path / "augmented.jsonl", tmp_path / "rejects.jsonl"
    result = camelid("backtranslate", str(segments_file), "-o", str(out), "--rejects",
                     str(rejects), "--max-model-len", str(CONTEXT))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records, rejected = lines(out), lines(rejects)
    assert len(records) + len(rejected) == len(segments) + 1

    by_id = {s["id"]: s for s in segments}
    for record in records:
        segment = by_id[record["id"]]
        assert record["output"] == segment["output"]
        assert record["source"] == "augmented"
        assert record.get("heading") == segment.get("heading")
        assert instruction_problem(record["instruction"], record["output"]) is None
        assert [e["stage"] for e in record["lineage"]] == ["seed", "backtranslate"]
        entry = record["lineage"][-1]
        assert (entry["pack"], entry["model"]) == ("backtranslate", "smollm2-135m-instruct")

    [long_reject] = [r for r in rejected if r["record"]["output"] == too_long["output"]]
    assert long_reject["reason"].endswith(
        f"tokens; the model's context is {CONTEXT} (--max-model-len)"
    )
    assert all(r["stage"] == "backtranslate" and r["reason"] for r in rejected)

    share = len(records) / len(segments)
    print(f"\nbacktranslate: {len(records)} of {len(segments)} segments got an instruction "
          f"({share:.0%}); rejects: {sorted(r['reason'] for r in rejected)}")  # fmt: skip
    for record in records:
        print(f"  {record.get('heading')}: {record['instruction']}")
    assert share >= 0.5
