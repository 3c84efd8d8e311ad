"""self-instruct end to end on the real vLLM engine and the default model, from the 175 seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.novelty import NoveltyPool
from camelid.stages.instructions.filters import instance_reject, instruction_reject
from tests.conftest import SEED_TASKS, camelid

pytestmark = pytest.mark.engine


def test_twenty_novel_filtered_instructions_with_instances(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(camelid("seed", str(SEED_TASKS), "-q").stdout)
    out, rejects = tmp_path / "new.jsonl", tmp_path / "rejects.jsonl"
    result = camelid(
        "self-instruct", str(seeds), "--target", "20", "--max-model-len", "2048",
        "-o", str(out), "--rejects", str(rejects),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 20
    pool = NoveltyPool(json.loads(line)["instruction"] for line in seeds.read_text().splitlines())
    for record in records:
        text = record["instruction"]
        assert instruction_reject(text) is None, text
        assert pool.check_and_add(text).novel, text  # novel against seeds and earlier kept ones
        assert record["source"] == "generated"
        assert [e["stage"] for e in record["lineage"]] == ["self-instruct"] + [
            "self-instruct.instances"
        ] * 2
        assert record["instances"], text
        for inst in record["instances"]:
            assert instance_reject(inst["input"], inst["output"], text) is None, inst
        assert (record["input"], record["output"]) == (
            record["instances"][0]["input"], record["instances"][0]["output"],
        )  # fmt: skip
        assert set(record["most_similar_instructions"]) and record["avg_similarity_score"] >= 0
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    print(f"\n{len(records)} kept, {len(reasons)} dropped; stderr tail:\n{result.stderr[-600:]}")
