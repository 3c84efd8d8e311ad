"""Benchmark: `respond --executor ray --replicas 2` against `--executor local`, same records.

Run with `make bench` (or `python tests/bench/ray_executor.py [RECORDS] [DELAY_MS]`). The model
is the scripted engine with a fixed delay per prompt (a sleep: what a slow model looks like,
without two vLLM engines fighting over this machine's two cores), so the figure is what the
executor does with replicas, not how fast a model is. The cluster is real: a
`ray.cluster_utils.Cluster` of two nodes of one CPU each, joined by the command as a user's
would be. Each command runs as a subprocess, timed from start to exit (median of 3).

Printed: end to end (each command a subprocess, start to exit, median of 3: Ray's start-up
included), the wall times and their ratio; then the engine layer alone, in this process, batch
by batch (median of 10): the local scripted engine against `RayEngine` with 2 replicas, the
start-up of those replicas, and Ray's cost per batch (no delay, 1 replica, against local, median
of 50). The Ray run must write the same records as the local one. Writes out/bench/ray_executor.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ray.cluster_utils import Cluster

ROOT = Path(__file__).resolve().parents[2]
SEED_TASKS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
DELAY_MS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
BATCH = 64
REPEATS = 3


def write_inputs(folder: Path) -> tuple[Path, Path]:
    rows = [json.loads(x) for x in SEED_TASKS.read_text().splitlines()]
    data, replies = folder / "in.jsonl", folder / "replies.jsonl"
    with data.open("w") as f:
        for i in range(RECORDS):
            f.write(json.dumps({"id": f"r{i}", "instruction": rows[i % len(rows)]["instruction"]}))
            f.write("\n")
    replies.write_text('"A short answer."\n"A longer answer than the first one."\n')
    return data, replies


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(REPEATS):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "camelid", *args], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        times.append(time.perf_counter() - start)
        out = done.stdout
    return statistics.median(times), out


def per_batch(engine: object, prompts: list[str], sampling: object, calls: int) -> float:
    """Median seconds of one engine.generate over a batch, seeds as the commands send them."""
    seeds = list(range(len(prompts)))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        engine.generate(prompts, sampling, seeds)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(cluster: Cluster, replies: Path) -> dict[str, float]:
    """The engine layer alone, batch by batch: local scripted engine against RayEngine."""
    import ray

    from camelid.engines import build_engine
    from camelid.engines.options import EngineOptions
    from camelid.sampling import Sampling

    ray.init(address=cluster.address, log_to_driver=False)
    prompts = [f"Question number {i}?" for i in range(BATCH)]
    sampling = Sampling(seed=0)
    base = EngineOptions(engine="scripted", replies=str(replies), replies_pick="seed")
    slow = base.model_copy(update={"replies_delay": DELAY_MS / 1000})
    out: dict[str, float] = {}
    try:
        out["local_batch_s"] = per_batch(build_engine(slow), prompts, sampling, 10)
        start = time.perf_counter()
        two = build_engine(slow.model_copy(update={"executor": "ray", "replicas": 2}))
        out["start_2_replicas_s"] = time.perf_counter() - start
        per_batch(two, prompts, sampling, 2)  # warm: workers' imports
        out["ray_2_batch_s"] = per_batch(two, prompts, sampling, 10)
        two.close()  # type: ignore[attr-defined]
        one = build_engine(base.model_copy(update={"executor": "ray"}))
        per_batch(one, prompts, sampling, 5)
        out["ray_1_batch_no_delay_s"] = per_batch(one, prompts, sampling, 50)
        out["local_batch_no_delay_s"] = per_batch(build_engine(base), prompts, sampling, 50)
        one.close()  # type: ignore[attr-defined]
    finally:
        ray.shutdown()
    return out


def main() -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data, replies = write_inputs(Path(tmp))
            env = {**os.environ, "CAMELID_ENGINE": "scripted", "CAMELID_REPLIES": str(replies),
                   "CAMELID_REPLIES_PICK": "seed", "CAMELID_REPLIES_DELAY": str(DELAY_MS / 1000)}  # fmt: skip
            common = ["respond", str(data), "--batch-size", str(BATCH), "-q"]
            two = ["--executor", "ray", "--ray-address", cluster.address, "--replicas", "2"]
            local_s, local_out = timed(common, env)
            print(f"  local: {local_s:.2f} s", flush=True)
            ray_s, ray_out = timed([*common, *two], env)
            print(f"  ray, 2 replicas: {ray_s:.2f} s", flush=True)
            engine = in_process(cluster, replies)
    finally:
        cluster.shutdown()
    assert local_out.count("\n") == RECORDS, "the local run did not write every record"
    result = {
        "records": RECORDS,
        "delay_ms_per_prompt": DELAY_MS,
        "batch_size": BATCH,
        "cluster": "2 nodes x 1 CPU (ray.cluster_utils.Cluster, this machine)",
        "end_to_end_s_median_of_3": {"local": round(local_s, 2), "ray_2": round(ray_s, 2)},
        "speedup_end_to_end": round(local_s / ray_s, 2),
        "same_records_as_local": ray_out == local_out,
        "batch_s_median": {k: round(v, 4) for k, v in engine.items()},
        "speedup_per_batch": round(engine["local_batch_s"] / engine["ray_2_batch_s"], 2),
        "ray_overhead_ms_per_batch": round(
            1000 * (engine["ray_1_batch_no_delay_s"] - engine["local_batch_no_delay_s"]), 1
        ),
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ray_executor.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
