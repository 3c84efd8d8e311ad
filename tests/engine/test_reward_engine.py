"""A reward model for real: `train --task reward` for a few steps on the CPU with the default
model, on pairs whose chosen answer is a Self-Instruct seed task's own and whose rejected one
answers another task; then `score --reward-model` ranks them.

Run under the engine lock: flock /tmp/camelid-engine.lock .venv/bin/pytest tests/engine/test_reward_engine.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED_TASKS, camelid
from tests.test_train_data import train_cli

pytestmark = pytest.mark.engine

PAIRS = 12
# Two passes over the pairs at a high LoRA rate: ~40 s on 2 CPU cores, and 12 of 12 pairs
# ranked right when it was written (4 steps already gave 11 of 12).
STEPS = ["--max-steps", "8", "--batch-size", "3", "--grad-accum", "1", "--max-length", "256",
         "--lr", "1e-3"]  # fmt: skip
# Rows this short need no memory saving; recomputing activations would only cost time.
CONFIG = "gradient_checkpointing: false\nlogging_steps: 1\n"


def seed_pairs() -> list[dict]:
    """Short one-answer seed tasks; each task's answer chosen, the next task's rejected."""
    tasks = [json.loads(line) for line in SEED_TASKS.read_text().splitlines()]
    short = [t for t in tasks if len(t["instances"]) == 1 and not t["instances"][0]["input"]
             and 3 <= len(t["instances"][0]["output"].split()) <= 40][:PAIRS]  # fmt: skip
    return [{"instruction": t["instruction"], "chosen": t["instances"][0]["output"],
             "rejected": short[(i + 1) % len(short)]["instances"][0]["output"]}
            for i, t in enumerate(short)]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the reward model, its pairs): trained once for the module."""
    root = tmp_path_factory.mktemp("reward")
    data = root / "pairs.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in seed_pairs()))
    config = root / "train.yaml"
    config.write_text(CONFIG)
    result = train_cli("--task", "reward", str(data), "-o", str(root / "rm"), "--config",
                       str(config), *STEPS)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"train: --task reward, LoRA r=16, {PAIRS} rows, 8 steps of 3" in result.stderr
    assert "train: step 8/8" in result.stderr and "accuracy" in result.stderr
    return root / "rm", data


def test_reward_model_ranks_chosen_above_rejected(trained: tuple[Path, Path]) -> None:
    model, data = trained
    assert (model / "adapter_config.json").is_file()  # LoRA by default, as sft and dpo
    adapter = json.loads((model / "adapter_config.json").read_text())
    assert adapter["task_type"] == "SEQ_CLS" and "score" in adapter["modules_to_save"]
    pairs = [json.loads(line) for line in data.read_text().splitlines()]
    records = [{"instruction": p["instruction"],
                "completions": [{"text": p["chosen"]}, {"text": p["rejected"]}]} for p in pairs]  # fmt: skip
    inputs = data.parent / "completions.jsonl"
    inputs.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = data.parent / "scored.jsonl"
    result = camelid("score", str(inputs), "--reward-model", str(model), "-o", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(scored) == PAIRS
    rewards = [[c["scores"]["reward"] for c in r["completions"]] for r in scored]
    assert all(isinstance(x, float) for pair in rewards for x in pair)  # one per completion
    assert all(r["lineage"][-1] == {"stage": "score", "model": str(model.resolve()),
                                    "scoring": "reward"} for r in scored)  # fmt: skip
    share = sum(chosen > rejected for chosen, rejected in rewards) / len(rewards)
    print(f"reward model: chosen above rejected on {share:.2f} of {PAIRS} training pairs",
          file=sys.stderr)  # fmt: skip
    assert share > 0.5, f"chosen above rejected on only {share:.2f} of the pairs"
