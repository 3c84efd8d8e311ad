"""examples/best_of_n.sh end to end at a tiny size: a reward model trained for two steps, K
completions from the real engine, scored, the best kept, the gain over one sample reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.engine.test_recipes import is_model_dir, rows, run_recipe

pytestmark = pytest.mark.engine


def test_best_of_n_recipe(tmp_path: Path) -> None:
    result = run_recipe("best_of_n.sh", tmp_path, SIZE="3", K="3", STEPS="2", BATCH="2",
                        MAX_LENGTH="256", MAX_TOKENS="48")  # fmt: skip
    assert is_model_dir(tmp_path / "reward")
    pairs, prompts = rows(tmp_path / "pairs.jsonl"), rows(tmp_path / "prompts.jsonl")
    assert len(prompts) == 3 and pairs
    assert not {p["instruction"] for p in pairs} & {p["instruction"] for p in prompts}
    completions = rows(tmp_path / "completions.jsonl")
    assert completions and all(len(r["completions"]) == 3 for r in completions)
    scored = rows(tmp_path / "scored.jsonl")
    assert len(scored) == len(completions)
    assert all(isinstance(c["scores"]["reward"], float) for r in scored for c in r["completions"])
    best = rows(tmp_path / "best.jsonl")
    assert len(best) == len(scored)
    for record, before in zip(best, scored, strict=True):
        top = max(c["scores"]["reward"] for c in before["completions"])
        assert record["scores"]["reward"] == top and "completions" not in record
    gain = re.search(r"best_of_n: 3 prompts, best of 3 mean reward (\S+) vs the first sample "
                     r"(\S+): gain ([-+]\S+);", result.stderr)  # fmt: skip
    assert gain, result.stderr[-2000:]
    print(f"best-of-3 reward gain over the first sample: {gain.group(3)}")
    assert float(gain.group(3)) >= 0  # the best of 3 is never below the first
