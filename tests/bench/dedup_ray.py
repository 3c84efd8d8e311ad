"""Benchmark: `camelid dedup` (minhash, the defaults) with --executor local against --executor ray.

    python tests/bench/dedup_ray.py [OUT.json] [--size 1000000]

The records are the dedup benchmark's timing corpus (tests/bench/dedup_data.py, by way of
tests/bench/dedup.py's `data_file`: a prefix of the cached 1M-record file when it is there).
1. The local run: `python -m camelid dedup FILE -q --stats S` in its own process.
2. A Ray cluster of two nodes of one CPU each (`ray.cluster_utils.Cluster`, as the tests start
   it; its start-up is timed apart), then the same command with `--executor ray --ray-address`:
   the per-record work (parsing, MinHash signatures) runs in Ray Data tasks on the two nodes;
   the driver reads the lines, groups the LSH buckets, clusters and writes.
Reports the wall time of each command (CPU seconds and peak RSS are the driver process's own:
the Ray workers' are not in them), the ratio local / ray, and whether the outputs agree: the
Jaccard similarity of the kept-id sets (must be 1.0) and whether the output bytes are equal.
Prints every figure and writes them to OUT.json (default out/bench/dedup_ray.json). Not a test:
nothing here asserts a time. The machine's cores are shared by the driver and both nodes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dedup as dedup_bench  # noqa: E402  (the dedup benchmark: its corpus and measuring)

OUT = dedup_bench.OUT
FULL = 1_000_000  # the dedup benchmark's corpus size: smaller runs take a prefix of its file


def data(n: int) -> tuple[Path, dict[str, Any]]:
    """n records: a prefix of the cached 1M corpus when there is one (or n is 1M), else a
    corpus of n (the generator is sequential: the same records either way)."""
    full = OUT / f"dedup_v{dedup_bench.dedup_data.CORPUS_VERSION}_{FULL}.jsonl"
    return dedup_bench.data_file(n, FULL if n <= FULL and full.exists() else n)


def run(path: Path, flags: list[str]) -> tuple[dict[str, Any], set[str], str]:
    """One `camelid dedup` process: its times and its report's counts, the kept ids, and a
    digest of the output bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        stats, kept = Path(tmp) / "stats.json", Path(tmp) / "kept.jsonl"
        cmd = [sys.executable, "-m", "camelid", "dedup", str(path), "-q", "--stats", str(stats)]
        with open(kept, "wb") as out:
            result = dedup_bench.measure([*cmd, *flags], out)
        report = json.loads(stats.read_text())
        ids = dedup_bench.kept_ids(kept)
        digest = hashlib.sha256(kept.read_bytes()).hexdigest()[:16]
    result |= {k: report[k] for k in ("read", "kept", "clusters", "duplicates")}
    result["records_per_s"] = round(report["read"] / max(result["wall_s"], 1e-9))
    return result, ids, digest


def start_cluster(object_store_mb: int) -> tuple[Any, float]:
    """Two nodes of one CPU each on this machine; returns it and its start-up seconds."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray.cluster_utils import Cluster

    started = time.perf_counter()
    memory = object_store_mb * 1024 * 1024
    head = {"num_cpus": 1, "include_dashboard": False, "object_store_memory": memory}
    cluster = Cluster(initialize_head=True, connect=False, head_node_args=head)
    cluster.add_node(num_cpus=1, object_store_memory=memory)
    cluster.wait_for_nodes()
    return cluster, time.perf_counter() - started


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT / "dedup_ray.json")
    parser.add_argument("--size", type=int, default=FULL, help="records (default 1,000,000)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"corpus of {args.size:,} records under {OUT} (cached) ...", flush=True)
    path, corpus = data(args.size)
    print(f"local: camelid dedup {path.name} ...", flush=True)
    local, mine, local_digest = run(path, [])
    print(f"  {local}", flush=True)

    # The object store holds the input lines while they are scanned: room for all of them.
    store_mb = max(512, int(path.stat().st_size * 1.5 / 2**20))
    cluster, startup = start_cluster(store_mb)
    try:
        print(f"ray: cluster of 2 x 1 CPU up in {startup:.1f}s; --executor ray ...", flush=True)
        remote, theirs, remote_digest = run(
            path, ["--executor", "ray", "--ray-address", cluster.address]
        )
        print(f"  {remote}", flush=True)
    finally:
        cluster.shutdown()

    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "ray": version("ray"),
            "platform": platform.platform(),
        },
        "size": args.size,
        "corpus": corpus,
        "cluster": {
            "nodes": 2,
            "cpus_per_node": 1,
            "object_store_mb_per_node": store_mb,
            "startup_s": round(startup, 2),
        },  # fmt: skip
        "local": local,
        "ray": remote,
        "local_over_ray_wall": round(local["wall_s"] / remote["wall_s"], 2),
        "kept_id_jaccard": round(len(mine & theirs) / max(1, len(mine | theirs)), 6),
        "same_output_bytes": local_digest == remote_digest,
    }
    print()
    print(f"{args.size:,} records, minhash defaults, {os.cpu_count()} cores on this machine")
    for name in ("local", "ray"):
        r = results[name]
        print(
            f"  {name:<5} wall {r['wall_s']:7.2f}s  driver cpu {r['cpu_s']:7.2f}s  "
            f"driver rss {r['peak_rss_mb']:7.1f} MB  {r['records_per_s']:>8,} records/s  "
            f"kept {r['kept']:,}"
        )
    print(f"  ray cluster start-up (not in the ray wall time): {startup:.1f}s")
    print(f"  local / ray wall: {results['local_over_ray_wall']}x")
    print(f"  kept-id Jaccard: {results['kept_id_jaccard']}; "
          f"same output bytes: {results['same_output_bytes']}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
