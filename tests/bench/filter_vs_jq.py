"""Benchmark: `camelid filter --min-score quality=4` against `jq -c 'select(.scores.quality >= 4)'`
and against a bare loop of ten lines of Python (orjson, the same test, lines copied through).

    python tests/bench/filter_vs_jq.py [--records 1000000] [--repeat 3]

Generates a JSONL file of N records with realistic instruction/input/output lengths and
scores.quality (1,000,000 records are about 450 MB) under out/bench, reused when it is already
there; runs the three on it with stdout to a file, in turn, --repeat times; checks they keep the
same records; prints wall and CPU seconds (the median of the runs) and the ratios (target:
camelid >= 3x faster than jq; the bare loop shows what camelid's checks, errors and reporting
cost over the least a Python program can do) and writes them to out/bench/filter_vs_jq.json.
CPU seconds are reported too because the wall time of a shared 2-core machine depends on what
else runs. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
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
BARE_LOOP = """
import sys, orjson
out = sys.stdout.buffer
for line in open(sys.argv[1], "rb"):
    record = orjson.loads(line)
    quality = (record.get("scores") or {}).get("quality")
    if quality is not None and quality >= 4:
        out.write(line)
"""


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


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="Runs per tool; the median counts.")
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
    outs = {name: OUT / f"filter_{name}.out" for name in ("camelid", "jq", "bare")}
    commands = {
        "camelid": [sys.executable, "-m", "camelid", "filter", "--min-score", "quality=4", "-q",
                    str(data)],
        "bare": [sys.executable, "-c", BARE_LOOP, str(data)],
    }  # fmt: skip
    jq = shutil.which("jq")
    if jq is None:
        report["jq"] = "not installed (apt-get install -y jq): no comparison"
    else:
        report["jq"] = subprocess.run(
            [jq, "--version"], capture_output=True, text=True
        ).stdout.strip()
        commands["jq"] = [jq, "-c", JQ_FILTER, str(data)]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # in turn, so that no tool gets a quieter machine
        for name, cmd in commands.items():
            runs[name].append(timed(cmd, outs[name]))
    for name in commands:
        report[f"{name}_seconds"], report[f"{name}_cpu_seconds"] = medians(runs[name])
        report[f"{name}_kept"] = count_lines(outs[name])
    report["bare_loop"] = "python -c '<10 lines: orjson.loads, the same test, lines copied>'"
    report["same_bytes"] = all(
        outs[name].read_bytes() == outs["camelid"].read_bytes() for name in commands
    )  # jq -c re-encodes; on this ASCII, compact input it writes the very same bytes
    report["same_count"] = len({report[f"{name}_kept"] for name in commands}) == 1
    for name in ("jq", "bare"):
        if name in commands:
            report[f"{name}_over_camelid"] = round(
                report[f"{name}_seconds"] / report["camelid_seconds"], 2
            )
            report[f"{name}_over_camelid_cpu"] = round(
                report[f"{name}_cpu_seconds"] / report["camelid_cpu_seconds"], 2
            )
    report["target_jq_over_camelid"] = 3.0
    report["runs"] = args.repeat
    for path in outs.values():
        path.unlink(missing_ok=True)
    for key in [k for k in report if k.endswith("seconds")]:
        report[key] = round(report[key], 2)
    (OUT / "filter_vs_jq.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if report.get("same_count") is False:
        sys.exit("camelid and jq kept different numbers of records")


if __name__ == "__main__":
    main()
