"""Every recipe in examples/ end to end at a tiny size on the real engine and the default model.

Each step's output is checked for the shape the next step (and the paper) needs; the model is
tiny, so counts are checked for being sane, not large.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED_TASKS

pytestmark = pytest.mark.engine


def run_recipe(name: str, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(ROOT / "examples" / name)],
        env={
            **os.environ,
            "OUT": str(out),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def is_model_dir(path: Path) -> bool:
    """A whole model, or a LoRA adapter (which every --model merges into its base on first use)."""
    whole = (path / "config.json").is_file() and any(path.glob("model*.safetensors"))
    adapter = (path / "adapter_config.json").is_file() and (
        path / "adapter_model.safetensors"
    ).is_file()
    return whole or adapter


def test_self_instruct_recipe(tmp_path: Path) -> None:
    run_recipe("self_instruct.sh", tmp_path, SIZE="4", SEEDS=str(SEED_TASKS))
    assert len(rows(tmp_path / "seeds.jsonl")) == 175
    generated = rows(tmp_path / "generated.jsonl")
    assert len(generated) == 4 and all(r["instances"] for r in generated)
    dataset = rows(tmp_path / "dataset.jsonl")
    assert 1 <= len(dataset) <= 4


def test_dromedary_recipe(tmp_path: Path) -> None:
    result = run_recipe("dromedary.sh", tmp_path, SIZE="2")
    redteam = rows(tmp_path / "redteam.jsonl")
    assert redteam and {r["source"] for r in redteam} == {"redteam"}
    generated = rows(tmp_path / "generated.jsonl")
    assert len(generated) == 2 and all(r["instances"] for r in generated)  # inputs where needed
    aligned = rows(tmp_path / "aligned.jsonl")
    assert aligned and all(r["rationales"]["thoughts"] and r["output"] for r in aligned)
    identity = rows(tmp_path / "identity.jsonl")
    assert identity and all("Camel" in r["output"] or "camelid" in r["output"] for r in identity)
    assert is_model_dir(tmp_path / "engraved")
    verbose = rows(tmp_path / "verbose.jsonl")
    assert verbose and all(r["lineage"][-1]["pack"] == "verbose" for r in verbose)
    assert verbose[0]["lineage"][-1]["model"].endswith("engraved")
    assert is_model_dir(tmp_path / "final")
    trained = json.loads((tmp_path / "final" / "camelid-train.json").read_text())
    assert trained["model"] == "smollm2-135m-instruct"  # from the base model, not the engraved
    assert "dromedary:" in result.stderr


def test_humpback_recipe(tmp_path: Path) -> None:
    result = run_recipe("humpback.sh", tmp_path, SIZE="6")
    assert is_model_dir(tmp_path / "backward") and is_model_dir(tmp_path / "m0")
    segments = rows(tmp_path / "segments.jsonl")
    augmented = rows(tmp_path / "augmented.jsonl")
    assert len(segments) == 6 and augmented
    assert all(r["source"] == "augmented" and r["instruction"] for r in augmented)
    for round_, curator in ((1, "m0"), (2, "m1")):
        scored = rows(tmp_path / f"scored{round_}.jsonl")
        assert [r["id"] for r in scored] == [r["id"] for r in augmented]
        assert all(1 <= r["scores"]["quality"] <= 5 for r in scored)  # every pair judged
        # the model of the previous round curates, never the raw base model
        assert {r["lineage"][-1]["model"] for r in scored} == {str(tmp_path / curator)}
        curated = rows(tmp_path / f"curated{round_}.jsonl")
        assert curated and {r["id"] for r in curated} <= {r["id"] for r in scored}
        assert is_model_dir(tmp_path / f"m{round_}")
        assert f"humpback: round {round_}: {curator} kept {len(curated)} of {len(augmented)}" \
            in result.stderr  # fmt: skip


def test_ultrafeedback_recipe(tmp_path: Path) -> None:
    run_recipe("ultrafeedback.sh", tmp_path, SIZE="2")
    completions = rows(tmp_path / "completions.jsonl")
    assert completions
    for record in completions:
        assert sorted(c["model"] for c in record["completions"]) == ["a", "a", "b", "b"]
    rated = rows(tmp_path / "rated.jsonl")
    assert all(c.get("scores") for r in rated for c in r["completions"])
    pairs = rows(tmp_path / "pairs.jsonl")
    assert pairs and all(p["chosen"] and p["rejected"] for p in pairs)
    assert all(p["chosen_score"] > p["rejected_score"] for p in pairs)
    assert is_model_dir(tmp_path / "dpo")


def test_alpagasus_recipe(tmp_path: Path) -> None:
    # EVAL: the trained model against its base on held-out prompts (Self-Instruct's seed tasks;
    # the recipe trains on camelid's own built-in ones)
    result = run_recipe("alpagasus.sh", tmp_path, SIZE="6", EVAL=str(SEED_TASKS),
                        EVAL_SIZE="4", EVAL_MAX_TOKENS="48")  # fmt: skip
    data, scored = rows(tmp_path / "data.jsonl"), rows(tmp_path / "scored.jsonl")
    assert len(data) == 6 and len(scored) == 6
    assert all(0 <= r["scores"]["accuracy"] <= 5 for r in scored)
    selected = rows(tmp_path / "selected.jsonl")
    assert len(selected) == 3  # the tiny run's best half
    kept = {r["id"] for r in selected}
    best = sorted((r["scores"]["accuracy"] for r in scored), reverse=True)[:3]
    assert sorted((r["scores"]["accuracy"] for r in selected), reverse=True) == best
    assert {r["id"] for r in scored} >= kept
    assert is_model_dir(tmp_path / "sft")
    assert "alpagasus: 3 of 6 pairs selected" in result.stderr
    judged = rows(tmp_path / "eval.jsonl")
    assert len(rows(tmp_path / "heldout.jsonl")) == 4 and judged
    figures = json.loads((tmp_path / "eval.json").read_text())
    assert (figures["a"], figures["b"], figures["prompts"]) == ("trained", "base", len(judged))
    assert 0 <= figures["win_rate"] <= 1
    assert "eval: A = trained against B = base" in result.stderr


def test_lima_recipe(tmp_path: Path) -> None:
    result = run_recipe("lima.sh", tmp_path, POOL="10", SIZE="4")
    pool, scored = rows(tmp_path / "pool.jsonl"), rows(tmp_path / "scored.jsonl")
    assert len(pool) == len(scored) == 10
    styled, diverse = rows(tmp_path / "styled.jsonl"), rows(tmp_path / "diverse.jsonl")
    assert styled and diverse and len(diverse) <= len(styled)
    final = rows(tmp_path / "lima.jsonl")
    assert 1 <= len(final) <= 4 and {r["id"] for r in final} <= {r["id"] for r in diverse}
    assert is_model_dir(tmp_path / "sft")
    assert f"lima: {len(final)} of 10 examples kept" in result.stderr
