"""`camelid train` for real, a few steps on the CPU with the default model, and every output
directory used as --model by a generation command on the real vLLM engine.

Run under the engine lock: flock /tmp/camelid-engine.lock .venv/bin/pytest tests/engine/test_train.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid import models
from tests.conftest import camelid
from tests.test_train_data import train_cli

pytestmark = pytest.mark.engine

TINY = ["--batch-size", "2", "--grad-accum", "1", "--max-length", "256"]
COLOURS = ["red", "green", "blue", "amber", "violet", "teal", "coral", "olive"]


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, str]:
    """A fresh cache for merged adapters that still finds the prepared default model."""
    root = tmp_path / "cache"
    root.mkdir()
    models.resolve_model(models.DEFAULT_MODEL)  # prepared already here; quick
    (root / "models").symlink_to(models.cache_dir() / "models")
    return {"CAMELID_CACHE": str(root)}


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def answers(tmp_path: Path) -> Path:
    rows = [{"instruction": f"What colour is item {i}?", "output": f"Item {i} is {c}.",
             "source": "seed" if i % 2 else "augmented"} for i, c in enumerate(COLOURS)]  # fmt: skip
    return write(tmp_path / "answers.jsonl", rows)


def test_sft_lora_resumes_from_its_checkpoint_then_answers_as_model(
    tmp_path: Path, cache: dict[str, str]
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("logging_steps: 1\nsave_steps: 1\nmax_steps: 50\nlr: 0.0001\n")
    out, data = tmp_path / "m1", answers(tmp_path)
    args = ["--task", "sft", str(data), "-o", str(out), "--config", str(config),
            "--humpback-tags", *TINY]  # fmt: skip
    first = train_cli(*args, "--max-steps", "2", env=cache)  # the flag wins over the file
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout == f"{out}\n"
    assert "train: --task sft, LoRA r=16, 8 rows, 2 steps of 2 (2 x 1), lr 0.0001, cpu fp32" in first.stderr  # fmt: skip
    assert (out / "adapter_config.json").is_file() and not (out / "config.json").exists()
    state = json.loads((out / "checkpoints/checkpoint-2/trainer_state.json").read_text())
    first_losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    assert len(first_losses) == 2

    second = train_cli(*args, "--max-steps", "4", env=cache)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"train: resuming from {out}/checkpoints/checkpoint-2" in second.stderr
    assert "train: step 3/4" in second.stderr and "train: step 1/4" not in second.stderr
    state = json.loads((out / "checkpoints/checkpoint-4/trainer_state.json").read_text())
    steps = [(e["step"], e["loss"]) for e in state["log_history"] if "loss" in e]
    assert [s for s, _ in steps] == [1, 2, 3, 4]
    assert [loss for _, loss in steps[:2]] == first_losses  # the first run's steps, kept
    marker = json.loads((out / "camelid-train.json").read_text())
    assert (marker["complete"], marker["steps"], marker["settings"]["max_steps"]) == (True, 4, 4)

    prompts = write(tmp_path / "q.jsonl", [{"instruction": "What colour is item 3?"},
                                           {"instruction": "What colour is item 5?"}])  # fmt: skip
    answered, rejects = tmp_path / "a.jsonl", tmp_path / "r.jsonl"
    result = camelid("respond", "--model", str(out), str(prompts), "-o", str(answered),
                     "--rejects", str(rejects), "--max-model-len", "1024", "--max-tokens", "48",
                     env=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"merging LoRA adapter {out}" in result.stderr
    records = lines(answered)
    assert len(records) + len(lines(rejects)) == 2 and records
    assert all(r["output"].strip() and r["lineage"][-1]["model"] == str(out) for r in records)
    [merged] = [p for p in (Path(cache["CAMELID_CACHE"]) / "merged").iterdir() if p.name[0] != "."]
    assert (merged / "config.json").is_file()


def test_backward_merged_model_backtranslates(tmp_path: Path, cache: dict[str, str]) -> None:
    out = tmp_path / "backward"
    result = train_cli("--task", "backward", str(answers(tmp_path)), "-o", str(out), "--merge",
                       "--max-steps", "2", *TINY, env=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "config.json").is_file() and (out / "adapter/adapter_config.json").is_file()
    assert not (out / "adapter_config.json").exists()  # a whole model: vLLM loads it as is

    segments = write(tmp_path / "segments.jsonl", [
        {"output": "Item 9 is gold. Gold is a warm, bright colour often used for trophies."},
        {"output": "Item 4 is amber, the colour of honey and of traffic lights between red and green."},
    ])  # fmt: skip
    done, rejects = tmp_path / "augmented.jsonl", tmp_path / "rejects.jsonl"
    result = camelid("backtranslate", "--pack", "backward", "--model", str(out), str(segments),
                     "-o", str(done), "--rejects", str(rejects), "--max-model-len", "1024",
                     env=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = lines(done)
    assert len(records) + len(lines(rejects)) == 2
    for record in records:
        assert record["source"] == "augmented" and record["instruction"].strip()
        entry = record["lineage"][-1]
        assert (entry["pack"], entry["model"]) == ("backward", str(out))
    print(f"\nbackward model wrote: {[r['instruction'] for r in records]}; "
          f"rejected: {[r['reason'] for r in lines(rejects)]}")  # fmt: skip


def test_dpo_full_fine_tuning_on_pairs(tmp_path: Path, cache: dict[str, str]) -> None:
    pairs = write(tmp_path / "pairs.jsonl", [
        {"instruction": f"What colour is item {i}?", "chosen": f"Item {i} is {c}.",
         "rejected": "I cannot say.", "chosen_score": 5, "rejected_score": 1}
        for i, c in enumerate(COLOURS[:4])
    ])  # fmt: skip
    config = tmp_path / "dpo.yaml"
    config.write_text("logging_steps: 1\n")
    out = tmp_path / "dpo"
    result = train_cli("--task", "dpo", str(pairs), "-o", str(out), "--full", "--max-steps",
                       "2", "--config", str(config), *TINY, env=cache)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "train: step 2/2" in result.stderr and "margins" in result.stderr
    saved = json.loads((out / "config.json").read_text())
    assert (saved["dtype"], saved["attention_dropout"]) == ("bfloat16", 0.0)  # as the base
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
