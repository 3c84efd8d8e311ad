"""Benchmark: `respond --executor ray --replicas 2` against `--executor local`, same records.

Run with `make bench` (or `python tests/bench/ray_executor.py [RECORDS] [DELAY_MS]`). The model
is the scripted engine with a fixed delay per prompt (a sleep: what a slow model looks like,
without two vLLM engines fighting over this machine's two cores), so the figure is what the
executor does with replicas, not how fast a model is. The cluster is real: a
`ray.cluster_utils.Cluster` of two nodes of one CPU each, joined by the command as a user's
would be. Each command runs as a subprocess, timed from start to exit (median of 3).

Printed: wall times and the ratio, end to end and with start-up taken out (each side's time
for one record); Ray's start-up cost (joining, two replicas started); its cost per batch
(delay 0, one replica, against local, start-up taken out, divided by the batches). Every run
must write the same records as the local one. Writes out/bench/ray_executor.json.
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


def write_inputs(folder: Path) -> tuple[Path, Path, Path]:
    rows = [json.loads(x) for x in SEED_TASKS.read_text().splitlines()]
    data, one, replies = folder / "in.jsonl", folder / "one.jsonl", folder / "replies.jsonl"
    with data.open("w") as f:
        for i in range(RECORDS):
            f.write(json.dumps({"id": f"r{i}", "instruction": rows[i % len(rows)]["instruction"]}))
            f.write("\n")
    one.write_text(data.read_text().splitlines()[0] + "\n")
    replies.write_text('"A short answer."\n"A longer answer than the first one."\n')
    return data, one, replies


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(REPEATS):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "camelid", *args], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        times.append(time.perf_counter() - start)
        out = done.stdout
    return statistics.median(times), out


def main() -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data, one, replies = write_inputs(Path(tmp))
            base = {**os.environ, "CAMELID_ENGINE": "scripted", "CAMELID_REPLIES": str(replies),
                    "CAMELID_REPLIES_PICK": "seed"}  # fmt: skip
            slow = {**base, "CAMELID_REPLIES_DELAY": str(DELAY_MS / 1000)}
            common = ["respond", "--batch-size", str(BATCH), "-q"]
            ray = ["--executor", "ray", "--ray-address", cluster.address]
            two = [*ray, "--replicas", "2"]
            runs = {
                "local": ([*common, str(data)], slow),
                "ray_2": ([*common, str(data), *two], slow),
                "local_start": ([*common, str(one)], slow),
                "ray_2_start": ([*common, str(one), *two], slow),
                "local_no_delay": ([*common, str(data)], base),
                "ray_1_no_delay": ([*common, str(data), *ray], base),
                "ray_1_start": ([*common, str(one), *ray], base),
            }
            seconds, outputs = {}, {}
            for name, (args, env) in runs.items():
                seconds[name], outputs[name] = timed(args, env)
                print(f"  {name}: {seconds[name]:.2f} s", flush=True)
    finally:
        cluster.shutdown()
    same = outputs["ray_2"] == outputs["local"] == outputs["ray_1_no_delay"]
    assert outputs["local"].count("\n") == RECORDS, "the local run did not write every record"
    steady_local = seconds["local"] - seconds["local_start"]
    steady_ray = seconds["ray_2"] - seconds["ray_2_start"]
    batches = -(-RECORDS // BATCH)
    extra = (seconds["ray_1_no_delay"] - seconds["ray_1_start"]) - (
        seconds["local_no_delay"] - seconds["local_start"]
    )
    result = {
        "records": RECORDS,
        "delay_ms_per_prompt": DELAY_MS,
        "batch_size": BATCH,
        "cluster": "2 nodes x 1 CPU (ray.cluster_utils.Cluster, this machine)",
        "seconds_median_of_3": {k: round(v, 2) for k, v in seconds.items()},
        "speedup_end_to_end": round(seconds["local"] / seconds["ray_2"], 2),
        "speedup_without_start_up": round(steady_local / steady_ray, 2),
        "ray_start_up_s": round(seconds["ray_2_start"] - seconds["local_start"], 2),
        "ray_overhead_ms_per_batch": round(1000 * extra / batches, 1),
        "same_records_as_local": same,
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ray_executor.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
