"""Benchmark: `camelid dedup` (minhash) at up to a million records, against datasketch.

    python tests/bench/dedup.py [OUT.json] [--size 1000000] [--baseline-sizes 20000,100000]

1. Generates instruction-like records from real text on this machine (tests/bench/dedup_data.py:
   documentation sentences and the Self-Instruct seed tasks, fixed seed, ~15% edited copies),
   cached under out/bench.
2. Times `camelid dedup FILE` (default minhash) in a subprocess on the first 100k, 250k, 500k and
   --size records: wall and CPU seconds, records/s, peak RSS (ru_maxrss of that process alone,
   from wait4), and how time grows with size.
3. Runs the datasketch baseline (tests/bench/dedup_baseline.py: same texts, shingles, banding,
   threshold, union-find and output) the same way on --baseline-sizes records, and extrapolates
   its time (in proportion to its largest run) and memory (along the line through its two
   largest runs) to --size. Reports the ratios, at the largest size both ran and at --size,
   in wall and CPU seconds (the CPU ratio is the steadier one on a shared machine).
   Target: camelid >= 5x faster, no more memory.
4. Precision and recall of the default minhash on a labelled near-duplicate set (real sentences
   with realistic edits: word swaps, insertions, deletions, case and punctuation changes,
   truncation), over pairs of records in one cluster; target >= 0.9 both. The same for other
   shingles, to show why the default is word 1-grams.

Prints each figure and writes them all to OUT.json (default out/bench/dedup.json). Not a test:
nothing here asserts a time. `--size 20000 --baseline-sizes 5000,10000` runs in a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "out" / "bench"
sys.path.insert(0, str(HERE))

import dedup_data  # noqa: E402

SHINGLES = [("word", 1), ("word", 2), ("word", 3), ("char", 3), ("char", 4), ("char", 5)]


def measure(command: list[str], stdout: Any = subprocess.DEVNULL) -> dict[str, float]:
    """Wall and CPU seconds and peak RSS (MB) of one process, from its own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": usage.ru_maxrss / 1024}


def data_file(n: int, size: int) -> Path:
    """The first n of the generated records (the generator is sequential, so a prefix of the
    --size file is the n-record file)."""
    full = OUT / f"dedup_{size}.jsonl"
    dedup_data.write_records(full, size)
    if n == size:
        return full
    part = OUT / f"dedup_{size}_first_{n}.jsonl"
    if not part.exists():
        with open(full, "rb") as src, open(part.with_suffix(".tmp"), "wb") as dst:
            for _, line in zip(range(n), src, strict=False):
                dst.write(line)
        part.with_suffix(".tmp").replace(part)
    return part


def camelid_run(path: Path, *args: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        cmd = [sys.executable, "-m", "camelid", "dedup", str(path), "-q", "--stats", str(stats)]
        result = measure([*cmd, *args])
        report = json.loads(stats.read_text())
    return result | {k: report[k] for k in ("read", "kept", "clusters", "duplicates")}


def baseline_run(path: Path, n: int) -> dict[str, float]:
    with tempfile.TemporaryFile() as kept:
        result = measure([sys.executable, str(HERE / "dedup_baseline.py"), str(path), str(n)], kept)
        kept.seek(0)
        return result | {"read": n, "kept": sum(1 for _ in kept)}


def speed(runs: dict[int, dict[str, Any]]) -> None:
    for n, run in runs.items():
        run["records_per_s"] = round(n / run["wall_s"])
        run["records_per_cpu_s"] = round(n / max(run["cpu_s"], 1e-9))


def extrapolate(runs: dict[int, dict[str, Any]], size: int, key: str) -> float:
    """Linear from the two largest sizes (a straight line through them) to `size`."""
    (n1, a), (n2, b) = sorted(runs.items())[-2:]
    slope = (b[key] - a[key]) / (n2 - n1)
    return b[key] + slope * (size - n2)


def pair_scores(clusters: list[int], origin: list[int]) -> dict[str, float]:
    """Precision and recall over pairs of records: predicted = same cluster, true = same origin."""
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clusters):
        by_cluster[c].append(i)
    predicted = sum(len(m) * (len(m) - 1) // 2 for m in by_cluster.values())
    hits = 0
    for members in by_cluster.values():
        counts = Counter(origin[i] for i in members)
        hits += sum(v * (v - 1) // 2 for v in counts.values())
    truth = sum(v * (v - 1) // 2 for v in Counter(origin).values())
    return {
        "precision": round(hits / predicted, 4) if predicted else 1.0,
        "recall": round(hits / truth, 4),
        "true_pairs": truth,
        "predicted_pairs": predicted,
    }


def quality(bases: int) -> dict[str, Any]:
    rows, origin = dedup_data.labelled(bases)
    out: dict[str, Any] = {"records": len(rows), "originals": bases}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labelled.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        for unit, n in [(None, None), *SHINGLES]:
            args = ["--mark"] + ([] if unit is None else ["--unit", unit, "--ngram", str(n)])
            cmd = [sys.executable, "-m", "camelid", "dedup", str(path), "-q", *args]
            marked = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
            clusters = [json.loads(x)["dedup"]["cluster"] for x in marked.stdout.splitlines()]
            out["default" if unit is None else f"{unit}_{n}gram"] = pair_scores(clusters, origin)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT / "dedup.json")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--baseline-sizes", default="20000,100000")
    parser.add_argument("--labelled", type=int, default=3000, help="originals in the labelled set")
    args = parser.parse_args()
    size = args.size
    sizes = sorted({s for s in (100_000, 250_000, 500_000) if s < size} | {size})
    baseline_sizes = sorted(int(s) for s in args.baseline_sizes.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"generating {size:,} records under {OUT} (cached) ...", flush=True)
    data_file(size, size)

    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    camelid: dict[int, dict[str, Any]] = {}
    for n in sorted(set(sizes) | set(baseline_sizes)):
        camelid[n] = camelid_run(data_file(n, size))
        print(f"camelid  {n:>9,}: {camelid[n]}", flush=True)
    speed(camelid)
    baseline: dict[int, dict[str, Any]] = {}
    for n in baseline_sizes:
        baseline[n] = baseline_run(data_file(n, size), n)
        print(f"datasketch {n:>7,}: {baseline[n]}", flush=True)
    speed(baseline)
    both = baseline_sizes[-1]
    results["camelid"] = {str(n): r for n, r in camelid.items()}
    results["datasketch"] = {str(n): r for n, r in baseline.items()}
    results["same_size"] = {
        "records": both,
        "speedup_wall": round(baseline[both]["wall_s"] / camelid[both]["wall_s"], 2),
        "speedup_cpu": round(baseline[both]["cpu_s"] / camelid[both]["cpu_s"], 2),
        "memory_ratio_camelid_over_datasketch": round(
            camelid[both]["peak_rss_mb"] / baseline[both]["peak_rss_mb"], 3
        ),
        "same_kept": camelid[both]["kept"] == baseline[both]["kept"],
        "kept": [camelid[both]["kept"], baseline[both]["kept"]],
    }
    if len(baseline) >= 2 and size not in baseline:
        # Time in proportion to the largest run (datasketch's cost per record only grows with
        # size, so this flatters it); memory along the line through the two largest runs.
        wall = baseline[both]["wall_s"] * size / both
        cpu = baseline[both]["cpu_s"] * size / both
        rss = extrapolate(baseline, size, "peak_rss_mb")
    else:
        wall, cpu, rss = (baseline[size][k] for k in ("wall_s", "cpu_s", "peak_rss_mb"))
    results["at_size"] = {
        "records": size,
        "datasketch_extrapolated": size not in baseline,
        "datasketch_wall_s": round(wall, 1),
        "datasketch_peak_rss_mb": round(rss, 1),
        "camelid_wall_s": camelid[size]["wall_s"],
        "camelid_peak_rss_mb": camelid[size]["peak_rss_mb"],
        "speedup_wall": round(wall / camelid[size]["wall_s"], 2),
        "speedup_cpu": round(cpu / camelid[size]["cpu_s"], 2),
        "memory_ratio_camelid_over_datasketch": round(camelid[size]["peak_rss_mb"] / rss, 3),
    }
    first = sizes[0]
    results["growth"] = {
        "from": first,
        "to": size,
        "size_ratio": size / first,
        "time_ratio_wall": round(camelid[size]["wall_s"] / camelid[first]["wall_s"], 2),
        "time_ratio_cpu": round(camelid[size]["cpu_s"] / camelid[first]["cpu_s"], 2),
        "memory_ratio": round(camelid[size]["peak_rss_mb"] / camelid[first]["peak_rss_mb"], 2),
    }
    print("labelled set ...", flush=True)
    results["quality"] = quality(args.labelled)
    for key in ("same_size", "at_size", "growth", "quality"):
        print(f"{key}: {json.dumps(results[key])}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
