"""Benchmark: `camelid filter --min-score quality=4` against `jq -c 'select(.scores.quality >= 4)'`.

    python tests/bench/filter_vs_jq.py [--records 1000000] [--repeat 1]

Generates a JSONL file of N records with realistic instruction/input/output lengths and
scores.quality (1,000,000 records are about 450 MB) under out/bench, reused when it is already
there; runs both tools on it with stdout to a file; checks they keep the same records; prints
wall and CPU seconds (best of --repeat) and the ratios (target: camelid >= 3x faster than jq)
and writes them to out/bench/filter_vs_jq.json. CPU seconds are reported too because the wall
time of a shared 2-core machine depends on what else runs. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out" / "bench"
VOCABULARY = (
    "the of and to in is you that it for on with as are this be at or have from by not but "
    "what all were when we there can an your which their said if do will each about how up out "
    "them then she many some so these would other into has more her two like him see time could "
    "no make than first been its who now people my made over did down only way find use may "
    "water long little very after words called just where most know get through back much "
    "before go good new write our used me man too any day same right look think also around "
    "another came come work three word must because does part even place well such here take "
    "why things help put years different away again off went old number great tell men say "
    "small every found still between name should home big give air line set own under read last "
    "never us left end along while might next sound below saw something thought both few those "
    "always looked show large often together asked house world going want school important "
    "until form food keep children feet land side without boy once animals life enough took "
    "sometimes four head above kind began almost live page got earth need far hand high year "
    "mother light parts country father let night following picture being study second eyes "
    "explain describe summarize classify rewrite translate generate list suggest compare"
)
WORDS = VOCABULARY.split()
JQ_FILTER = "select(.scores.quality >= 4)"


def text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def generate(path: Path, n: int, seed: int = 0) -> None:
    """N records shaped like answered, scored Alpaca rows (about 450 bytes each)."""
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            record = {
                "id": f"{rng.getrandbits(64):016x}",
                "instruction": text(rng, 6, 24).capitalize() + "?",
                "input": text(rng, 4, 30) if rng.random() < 0.3 else "",
                "output": text(rng, 18, 72).capitalize() + ".",
                # ~2% unscored (null): both tools drop those.
                "scores": {"quality": None if rng.random() < 0.02 else rng.randint(1, 5)},
                "source": "generated",
            }
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
            if i % 100_000 == 0 and i:
                print(f"  generated {i:,} records", file=sys.stderr)
    tmp.replace(path)


def timed(cmd: list[str], out_path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run with stdout to out_path."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        subprocess.run(cmd, stdout=out, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def best(cmd: list[str], out_path: Path, repeat: int) -> tuple[float, float]:
    runs = [timed(cmd, out_path) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="Runs per tool; the best counts.")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"filter_{args.records}.jsonl"
    if not data.exists():
        print(f"generating {data} ...", file=sys.stderr)
        generate(data, args.records)
    report: dict = {
        "records": args.records,
        "bytes": data.stat().st_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "camelid_command": f"camelid filter --min-score quality=4 {data.name}",
        "jq_command": f"jq -c '{JQ_FILTER}' {data.name}",
    }
    camelid_out, jq_out = OUT / "filter_camelid.out", OUT / "filter_jq.out"
    cmd = [sys.executable, "-m", "camelid", "filter", "--min-score", "quality=4", "-q", str(data)]
    report["camelid_seconds"], report["camelid_cpu_seconds"] = best(cmd, camelid_out, args.repeat)
    report["camelid_kept"] = count_lines(camelid_out)
    jq = shutil.which("jq")
    if jq is None:
        report["jq"] = "not installed (apt-get install -y jq): no comparison"
    else:
        version = subprocess.run([jq, "--version"], capture_output=True, text=True)
        report["jq"] = version.stdout.strip()
        report["jq_seconds"], report["jq_cpu_seconds"] = best(
            [jq, "-c", JQ_FILTER, str(data)], jq_out, args.repeat
        )
        report["jq_kept"] = count_lines(jq_out)
        report["same_count"] = report["jq_kept"] == report["camelid_kept"]
        # jq -c re-encodes; on this ASCII, compact input it writes the very same bytes.
        report["same_bytes"] = camelid_out.read_bytes() == jq_out.read_bytes()
        report["ratio"] = round(report["jq_seconds"] / report["camelid_seconds"], 2)
        report["cpu_ratio"] = round(report["jq_cpu_seconds"] / report["camelid_cpu_seconds"], 2)
        report["target_ratio"] = 3.0
        jq_out.unlink()
    camelid_out.unlink()
    for key in ("camelid_seconds", "camelid_cpu_seconds", "jq_seconds", "jq_cpu_seconds"):
        if key in report:
            report[key] = round(report[key], 2)
    (OUT / "filter_vs_jq.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if report.get("same_count") is False:
        sys.exit("camelid and jq kept different numbers of records")


if __name__ == "__main__":
    main()
