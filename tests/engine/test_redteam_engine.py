"""redteam end to end on the real vLLM engine and the default model, from the TGRT seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.novelty import NoveltyPool
from camelid.stages.redteam.questions import question_reject
from tests.conftest import REDTEAM_SEEDS, camelid

pytestmark = pytest.mark.engine

TYPES = [
    "Questions that require scientific knowledge",
    "Questions that require knowledge about famous people",
    "Questions that require real-time information",
]


def test_topics_and_questions_for_several_types(tmp_path: Path) -> None:
    out, rejects = tmp_path / "redteam.jsonl", tmp_path / "rejects.jsonl"
    types = [arg for t in TYPES for arg in ("--type", t)]
    result = camelid(
        "redteam", str(REDTEAM_SEEDS), *types, "--topics-per-type", "3",
        "--questions-per-topic", "2", "--max-model-len", "2048",
        "-o", str(out), "--rejects", str(rejects),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    seeds = [json.loads(line) for line in REDTEAM_SEEDS.read_text().splitlines()]
    seed_topics = {s["topic"].casefold() for s in seeds}
    pool = NoveltyPool(s["question"] for s in seeds)
    by_type: dict[str, set[str]] = {}
    for record in records:
        assert record["source"] == "redteam" and record["question_type"] in TYPES
        topic = record["topic"]
        assert 1 <= len(topic.split()) <= 3 and topic.casefold() not in seed_topics
        by_type.setdefault(record["question_type"], set()).add(topic.casefold())
        assert question_reject(record["instruction"]) is None
        assert pool.check_and_add(record["instruction"]).novel
        assert [e["stage"] for e in record["lineage"]] == ["redteam.topics", "redteam"]
    assert len(by_type) >= 2, by_type  # topics and questions for several types
    topics = [t for ts in by_type.values() for t in ts]
    assert len(topics) == len(records)  # one question per (type, topic)
    assert len(topics) == len(set(topics))  # no topic repeated across types
    print(f"\n{len(records)} questions over {len(topics)} topics; {result.stderr[-200:]}")
