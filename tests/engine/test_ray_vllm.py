"""vLLM inside Ray actors: `respond --executor ray` writes what the in-process engine writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SEED_TASKS, camelid

pytest.importorskip("ray")
pytestmark = pytest.mark.engine


def test_two_vllm_replicas_on_a_local_ray_cluster_write_the_local_records(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(SEED_TASKS.read_text().splitlines(keepends=True)[:12]))
    # float32: bf16 kernels round by batch shape, and the replicas see other batches
    args = ["respond", str(seeds), "--max-tokens", "40", "--keep-truncated", "--max-model-len",
            "1024", "--dtype", "float32", "--seed", "5"]  # fmt: skip
    local = camelid(*args)
    assert local.returncode == 0, local.stderr
    # no --ray-address and no RAY_ADDRESS: camelid starts a local Ray for the run
    remote = camelid(*args, "--executor", "ray", "--replicas", "2", env={"RAY_ADDRESS": ""})
    assert remote.returncode == 0, remote.stderr
    assert "starting 2 engine replicas on a local Ray cluster" in remote.stderr
    records = [json.loads(x) for x in remote.stdout.splitlines()]
    assert len(records) == 12 and all(r["output"].strip() for r in records)
    assert records[0]["lineage"][-1]["dtype"] == "float32"
    assert remote.stdout == local.stdout
