"""Benchmark: `camelid dedup` (minhash) at up to a million records, against datasketch and rensa.

    python tests/bench/dedup.py [OUT.json] [--size 1000000] [--baseline-sizes A,B]
                                [--baselines datasketch,rensa]

`make bench` runs the published configuration: 1,000,000 records, camelid at 100k, 250k, 500k
and 1M, and each baseline at those same sizes (long: datasketch is pure Python). Quick look, in
about a minute: `--size 20000` (everything at 20k records).

What is compared. The two sides run different algorithms on the same shingles (the set of word
tokens of instruction + "\\n" + input, `camelid.text.unicode_tokenize`), threshold 0.7,
union-find clusters, the first record of each cluster kept:
- camelid (cli/camelid/stages/dedup/): 128 permutations, 18 bands of 7 rows; in each band the
  records sharing a band key are sorted and each is compared only with the 8 records before it
  in its bucket and with the bucket's first record (pairs already in one cluster are skipped);
  a pair is confirmed by the Jaccard similarity estimated from 8-bit signature values (b-bit
  minwise hashing, corrected for chance agreement).
- the anchors (tests/bench/dedup_baseline.py) confirm every member of every bucket a record
  falls in with the Jaccard estimated from the full signatures: datasketch (MinHash.bulk,
  LeanMinHash, MinHashLSH with the same 18 x 7 bands) and rensa (RMinHash, RMinHashLSH with 16
  bands of 8 rows: it needs bands that divide 128).
So the kept records can differ: the report gives the Jaccard similarity of the sets of kept
record ids (and of the dropped ones, which show the differences more plainly) for camelid
against each anchor at each size, besides the counts.

Steps:
1. Generates the timing corpus (tests/bench/dedup_data.py: sentences of the documentation
   installed on this machine and the Self-Instruct seed tasks, fixed seed, ~15% near copies;
   the repository's own text is too small for a million records), cached under out/bench; its
   fingerprint is reported.
2. At each size, in turn: `python -m camelid dedup FILE -q --stats S` (stdout to a file), then
   each anchor, each in its own process: wall and CPU seconds and peak RSS of that process alone
   (os.wait4), records/s; the ids of the kept records are read from their output. Ratios anchor
   over camelid in wall and CPU seconds (CPU is the steadier one on a shared machine), memory
   camelid over anchor. Each tool's start-up (an empty input) is measured and shown too: at
   small sizes it is much of the time. With --baseline-sizes below the camelid sizes, an
   anchor's figures at the sizes it did not run are extrapolated (its start-up plus the rest of
   its largest run's time in proportion to records, which flatters it if its cost per record
   grows; memory on the line through its two largest runs), printed with a `*` and stored under
   keys ending in `_extrapolated`.
3. Precision and recall on a labelled near-duplicate set built only from the repository's text
   and ../shared/data (dedup_data.labelled: seed tasks, shared-instruction hard negatives, copies
   whose edits all change the word-unigram set), over pairs of records (predicted: same
   cluster; true: same original). It is split by original: even origins tune, odd ones report.
   Each shingle option (camelid's default, word 1-3-grams, character 3-5-grams) runs on both
   splits; the best F1 on tune is named, and every option, the default and the one chosen are
   scored on the report split, as are the two anchors.

Prints every figure and writes them to OUT.json (default out/bench/dedup.json); the labelled
splits are kept in out/bench for inspection. Not a test: nothing here asserts a time.
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
from importlib.metadata import version
from itertools import combinations
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "out" / "bench"
sys.path.insert(0, str(HERE))

import dedup_data  # noqa: E402

STEPS = (100_000, 250_000, 500_000)  # camelid's sizes below --size, to show how time grows
BASELINES = ("datasketch", "rensa")
OPTIONS = {  # name -> camelid flags
    "default": [],
    "word_1gram": ["--unit", "word", "--ngram", "1"],
    "word_2gram": ["--unit", "word", "--ngram", "2"],
    "word_3gram": ["--unit", "word", "--ngram", "3"],
    "char_3gram": ["--unit", "char", "--ngram", "3"],
    "char_4gram": ["--unit", "char", "--ngram", "4"],
    "char_5gram": ["--unit", "char", "--ngram", "5"],
}
ALGORITHMS = {
    "camelid": "128 permutations, 18 bands x 7 rows; per band each record is compared with at "
    "most the 8 records before it in its bucket and the bucket's first record (pairs already "
    "clustered skipped); confirmed by Jaccard estimated from 8-bit signature values",
    "datasketch": "MinHash.bulk (shared permutations, SHA-1 token hash), LeanMinHash, "
    "MinHashLSH 18 bands x 7 rows; every bucket member confirmed by Jaccard estimated from "
    "the full 32-bit signatures",
    "rensa": "RMinHash.from_token_sets (128 slots), RMinHashLSH 16 bands x 8 rows (it needs "
    "bands dividing 128); every bucket member confirmed by RMinHash.jaccard",
}
COMMON = (
    "same shingles (set of word tokens of instruction + input), threshold 0.7, union-find, "
    "first of each cluster kept"
)


# --- running and measuring ------------------------------------------------------------------


def measure(command: list[str], stdout: Any = subprocess.DEVNULL) -> dict[str, float]:
    """Wall and CPU seconds and peak RSS (MB) of one process, from its own rusage."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a full pipe would block it
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=stdout, stderr=errors, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def data_file(n: int, size: int) -> tuple[Path, dict[str, Any]]:
    """The first n of the generated records (the generator is sequential, so a prefix of the
    --size file is the n-record file), and what the corpus was made from."""
    version_tag = f"dedup_v{dedup_data.CORPUS_VERSION}_{size}"
    full = OUT / f"{version_tag}.jsonl"
    about = dedup_data.write_records(full, size)
    if n == size:
        return full, about
    part = OUT / f"{version_tag}_first_{n}.jsonl"
    if not part.exists():
        with open(full, "rb") as src, open(part.with_suffix(".tmp"), "wb") as dst:
            for _, line in zip(range(n), src, strict=False):
                dst.write(line)
        part.with_suffix(".tmp").replace(part)
    return part, about


def kept_ids(path: Path) -> set[str]:
    with open(path, "rb") as f:
        return {orjson.loads(line)["id"] for line in f}


def camelid_run(path: Path) -> tuple[dict[str, Any], set[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        stats, kept = Path(tmp) / "stats.json", Path(tmp) / "kept.jsonl"
        cmd = [sys.executable, "-m", "camelid", "dedup", str(path), "-q", "--stats", str(stats)]
        with open(kept, "wb") as out:
            result = measure(cmd, out)
        report = json.loads(stats.read_text())
        ids = kept_ids(kept)
    assert len(ids) == report["kept"], "camelid's kept ids and its count disagree"
    return result | {k: report[k] for k in ("read", "kept", "clusters", "duplicates")}, ids


def baseline_run(library: str, path: Path, n: int) -> tuple[dict[str, Any], set[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        stats, kept = Path(tmp) / "stats.json", Path(tmp) / "kept.jsonl"
        cmd = [sys.executable, str(HERE / "dedup_baseline.py"), library, str(path), str(n)]
        with open(kept, "wb") as out:
            result = measure([*cmd, "--stats", str(stats)], out)
        report = json.loads(stats.read_text())
        ids = kept_ids(kept)
    assert len(ids) == report["kept"], f"{library}'s kept ids and its count disagree"
    counts = {k: report[k] for k in ("read", "kept", "candidates", "confirmed")}
    return result | counts, ids


def startup(baselines: list[str]) -> dict[str, dict[str, float]]:
    """Each tool on an empty file: the fixed cost (interpreter, imports) inside every run."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.jsonl"
        empty.touch()
        out = {"camelid": camelid_run(empty)[0]}
        out |= {lib: baseline_run(lib, empty, 0)[0] for lib in baselines}
    return {k: {m: v[m] for m in ("wall_s", "cpu_s", "peak_rss_mb")} for k, v in out.items()}


def speed(run: dict[str, Any], fixed: dict[str, float]) -> None:
    """Records per second of wall and CPU time, and of wall time less the start-up."""
    run["records_per_s"] = round(run["read"] / max(run["wall_s"], 1e-9))
    run["records_per_cpu_s"] = round(run["read"] / max(run["cpu_s"], 1e-9))
    run["records_per_s_after_startup"] = round(
        run["read"] / max(run["wall_s"] - fixed["wall_s"], 1e-9)
    )


def agreement(mine: set[str], theirs: set[str], n: int) -> dict[str, Any]:
    """Jaccard similarity of the kept id sets, and of the dropped ones (all n ids minus the
    kept): with most records kept, the dropped sets show the differences more plainly."""
    both, either = len(mine & theirs), len(mine | theirs)
    dropped_both, dropped_either = n - either, n - both
    return {
        "kept_id_jaccard": round(both / either, 4) if either else 1.0,
        "dropped_id_jaccard": round(dropped_both / dropped_either, 4) if dropped_either else 1.0,
        "kept_only_by_camelid": len(mine - theirs),
        "kept_only_by_baseline": len(theirs - mine),
    }


def extrapolate(
    runs: dict[int, dict[str, Any]], fixed: dict[str, float], n: int
) -> dict[str, float]:
    """A baseline's wall, CPU and memory at n records from its runs: its start-up plus the rest
    of its largest run's time in proportion to records (which flatters it if its cost per
    record grows); memory on the line through the two largest runs (or in proportion to records
    when there is one)."""
    largest = max(runs)
    scale = n / largest
    out = {k: fixed[k] + (runs[largest][k] - fixed[k]) * scale for k in ("wall_s", "cpu_s")}
    if len(runs) >= 2:
        (n1, a), (n2, b) = sorted(runs.items())[-2:]
        slope = (b["peak_rss_mb"] - a["peak_rss_mb"]) / (n2 - n1)
        out["peak_rss_mb"] = b["peak_rss_mb"] + slope * (n - n2)
    else:
        out["peak_rss_mb"] = runs[largest]["peak_rss_mb"] * n / largest
    return {k: round(v, 1) for k, v in out.items()}


def compare(camelid: dict[str, Any], theirs: dict[str, float], extrapolated: bool) -> dict:
    """Anchor over camelid in wall and CPU seconds; memory camelid over anchor."""
    tag = "_extrapolated" if extrapolated else ""
    out = {
        f"speedup_wall{tag}": round(theirs["wall_s"] / camelid["wall_s"], 2),
        f"speedup_cpu{tag}": round(theirs["cpu_s"] / camelid["cpu_s"], 2),
        f"memory_camelid_over_baseline{tag}": round(
            camelid["peak_rss_mb"] / theirs["peak_rss_mb"], 3
        ),
    }
    if extrapolated:
        out |= {f"{k}_extrapolated": v for k, v in theirs.items()}
    return out


# --- precision and recall -------------------------------------------------------------------


def pair_scores(labels: list[int], origin: list[int]) -> dict[str, float]:
    """Precision, recall and F1 over pairs of records: predicted = same cluster label, true =
    same original."""
    by_label: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(labels):
        by_label[c].append(i)
    predicted = sum(len(m) * (len(m) - 1) // 2 for m in by_label.values())
    hits = 0
    for members in by_label.values():
        counts = Counter(origin[i] for i in members)
        hits += sum(v * (v - 1) // 2 for v in counts.values())
    truth = sum(v * (v - 1) // 2 for v in Counter(origin).values())
    precision = hits / predicted if predicted else 1.0
    recall = hits / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": truth,
        "predicted_pairs": predicted,
    }


def camelid_clusters(path: Path, flags: list[str]) -> list[int]:
    cmd = [sys.executable, "-m", "camelid", "dedup", str(path), "-q", "--mark", *flags]
    marked = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
    return [orjson.loads(x)["dedup"]["cluster"] for x in marked.stdout.splitlines()]


def baseline_clusters(library: str, path: Path, n: int) -> list[int]:
    cmd = [sys.executable, str(HERE / "dedup_baseline.py"), library, str(path), str(n)]
    keepers = subprocess.run([*cmd, "--clusters"], capture_output=True, check=True, cwd=ROOT)
    return [int(x) for x in keepers.stdout.split()]


def split_stats(rows: list[dict[str, str]], origin: list[int], group: list[str]) -> dict:
    """How hard a split is: the exact word-unigram Jaccard of its true pairs, and of its hard
    negatives (records made from different originals that share an instruction)."""
    sets = [dedup_data.unigrams(r) for r in rows]

    def jaccard(i: int, j: int) -> float:
        return len(sets[i] & sets[j]) / len(sets[i] | sets[j])

    by_origin: dict[int, list[int]] = defaultdict(list)
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, (o, g) in enumerate(zip(origin, group, strict=True)):
        by_origin[o].append(i)
        if g:
            by_group[g].append(i)
    true = [jaccard(i, j) for m in by_origin.values() for i, j in combinations(m, 2)]
    negative = [
        jaccard(i, j)
        for m in by_group.values()
        for i, j in combinations(m, 2)
        if origin[i] != origin[j]
    ]
    return {
        "records": len(rows),
        "originals": len(by_origin),
        "true_pairs": len(true),
        "true_pairs_unigram_jaccard_ge_0.7": round(sum(s >= 0.7 for s in true) / len(true), 4),
        "shared_instruction_negative_pairs": len(negative),
        "negatives_unigram_jaccard_ge_0.7": round(
            sum(s >= 0.7 for s in negative) / max(len(negative), 1), 4
        ),
    }


def quality(baselines: list[str]) -> dict[str, Any]:
    """Every shingle option on both splits, the one chosen on tune, the anchors on report."""
    data = dedup_data.labelled()
    out: dict[str, Any] = {"fingerprint": data.fingerprint, "sources": data.sources}
    splits: dict[str, tuple[Path, list[int]]] = {}
    for name, parity in (("tune", 0), ("report", 1)):
        keep = [i for i, o in enumerate(data.origin) if o % 2 == parity]
        rows = [data.rows[i] for i in keep]
        origin = [data.origin[i] for i in keep]
        path = OUT / f"dedup_labelled_{name}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for row, o in zip(rows, origin, strict=True):
                f.write(json.dumps({**row, "origin": o}, ensure_ascii=False) + "\n")
        splits[name] = (path, origin)
        out[f"{name}_split"] = split_stats(rows, origin, [data.group[i] for i in keep])
    scores: dict[str, dict[str, Any]] = {}
    for option, flags in OPTIONS.items():
        scores[option] = {
            name: pair_scores(camelid_clusters(path, flags), origin)
            for name, (path, origin) in splits.items()
        }
    chosen = max(OPTIONS, key=lambda o: scores[o]["tune"]["f1"])  # first wins ties
    out["options"] = scores
    out["chosen_on_tune"] = {"option": chosen, "report": scores[chosen]["report"]}
    path, origin = splits["report"]
    out["baselines_on_report"] = {
        lib: pair_scores(baseline_clusters(lib, path, len(origin)), origin) for lib in baselines
    }
    return out


# --- the report -----------------------------------------------------------------------------


def print_runs(title: str, runs: dict[int, dict[str, Any]], fixed: dict[str, float]) -> None:
    print(
        f"{title} (start-up on an empty input: {fixed['wall_s']:.2f} s wall, "
        f"{fixed['peak_rss_mb']:.0f} MB)"
    )
    print(
        f"  {'records':>9}  {'wall s':>8}  {'CPU s':>8}  {'rec/s':>9}  {'rec/s less start-up':>19}"
        f"  {'peak MB':>8}  {'kept':>9}"
    )
    for n, r in sorted(runs.items()):
        print(
            f"  {n:>9,}  {r['wall_s']:>8.2f}  {r['cpu_s']:>8.2f}  {r['records_per_s']:>9,}  "
            f"{r['records_per_s_after_startup']:>19,}  {r['peak_rss_mb']:>8.1f}  {r['kept']:>9,}"
        )


def print_comparison(comparison: dict[str, dict[str, dict]]) -> None:
    print(
        "ratios (anchor time / camelid time: above 1, camelid is faster; memory camelid / anchor)"
    )
    print("and agreement of kept record ids (Jaccard of the kept sets; of the dropped sets):")
    head = f"  {'records':>9}  {'anchor':<10}  {'wall x':>7}  {'CPU x':>7}  {'memory':>7}"
    print(f"{head}  {'kept J':>7}  {'dropped J':>9}  only camelid / only anchor kept")
    starred = False
    for lib, by_size in comparison.items():
        for n, c in sorted(by_size.items()):
            star = "*" if "speedup_wall_extrapolated" in c else ""
            starred |= bool(star)
            tag = "_extrapolated" if star else ""
            line = (
                f"  {n:>9,}  {lib:<10}  {c['speedup_wall' + tag]:>6.2f}{star or ' '}"
                f"  {c['speedup_cpu' + tag]:>6.2f}{star or ' '}"
                f"  {c['memory_camelid_over_baseline' + tag]:>6.2f}{star or ' '}"
            )
            if star:
                print(line + "  (not run at this size)")
            else:
                print(
                    f"{line}  {c['kept_id_jaccard']:>7.4f}  {c['dropped_id_jaccard']:>9.4f}  "
                    f"{c['kept_only_by_camelid']:,} / {c['kept_only_by_baseline']:,}"
                )
    if starred:
        print("  * extrapolated, not measured: start-up plus the rest of the anchor's largest run")
        print("    in proportion to records; memory on the line through its two largest runs")


def print_quality(q: dict[str, Any], baselines: list[str]) -> None:
    for name in ("tune", "report"):
        s = q[f"{name}_split"]
        print(
            f"  {name} split: {s['records']:,} records, {s['originals']:,} originals, "
            f"{s['true_pairs']:,} true pairs ({s['true_pairs_unigram_jaccard_ge_0.7']:.1%} with "
            f"word-unigram Jaccard >= 0.7), {s['shared_instruction_negative_pairs']:,} "
            f"shared-instruction negative pairs ({s['negatives_unigram_jaccard_ge_0.7']:.1%} >= 0.7)"
        )
    print(
        f"  {'option':<12}  {'tune P':>7} {'R':>6} {'F1':>6}   {'report P':>8} {'R':>6} {'F1':>6}"
    )
    for option, s in q["options"].items():
        t, r = s["tune"], s["report"]
        print(
            f"  {option:<12}  {t['precision']:>7.3f} {t['recall']:>6.3f} {t['f1']:>6.3f}   "
            f"{r['precision']:>8.3f} {r['recall']:>6.3f} {r['f1']:>6.3f}"
        )
    chosen = q["chosen_on_tune"]
    r = chosen["report"]
    print(
        f"  chosen on tune (best F1): {chosen['option']}; on report: P {r['precision']:.3f} "
        f"R {r['recall']:.3f} F1 {r['f1']:.3f}"
    )
    d = q["options"]["default"]["report"]
    print(
        f"  camelid's default on report: P {d['precision']:.3f} R {d['recall']:.3f} "
        f"F1 {d['f1']:.3f}"
    )
    for lib in baselines:
        b = q["baselines_on_report"][lib]
        print(
            f"  {lib} (word unigrams) on report: P {b['precision']:.3f} R {b['recall']:.3f} "
            f"F1 {b['f1']:.3f}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT / "dedup.json")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument(
        "--baseline-sizes",
        help="sizes the anchors run at (default: the sizes camelid runs at); smaller ones make "
        "their figures at camelid's other sizes extrapolated",
    )
    parser.add_argument("--baselines", default=",".join(BASELINES), help="anchors to run")
    args = parser.parse_args()
    args.baselines = [b for b in args.baselines.split(",") if b]
    if unknown := set(args.baselines) - set(BASELINES):
        parser.error(f"unknown baselines: {', '.join(sorted(unknown))}")
    args.sizes = sorted({s for s in STEPS if s < args.size} | {args.size})
    if args.baseline_sizes:
        args.baseline_sizes = sorted(int(s) for s in args.baseline_sizes.split(","))
        if args.baseline_sizes[-1] > args.size:
            parser.error("--baseline-sizes: at most --size records are generated")
        args.sizes = sorted(set(args.sizes) | set(args.baseline_sizes))  # camelid runs there too
    else:
        args.baseline_sizes = args.sizes  # the published figures: every one measured
    return args


def timings(args: argparse.Namespace, fixed: dict[str, dict[str, float]]) -> dict[str, Any]:
    """camelid and each anchor at each size, one process at a time; ratios and agreement where
    both ran, extrapolated (and so labelled) figures where an anchor did not."""
    camelid: dict[int, dict[str, Any]] = {}
    anchors: dict[str, dict[int, dict[str, Any]]] = {lib: {} for lib in args.baselines}
    comparison: dict[str, dict[int, dict[str, Any]]] = {lib: {} for lib in args.baselines}
    for n in args.sizes:
        path = data_file(n, args.size)[0]
        camelid[n], mine = camelid_run(path)
        speed(camelid[n], fixed["camelid"])
        print(f"camelid     {n:>9,}: {camelid[n]}", flush=True)
        for lib in args.baselines:
            if n not in args.baseline_sizes:
                continue
            anchors[lib][n], theirs = baseline_run(lib, path, n)
            speed(anchors[lib][n], fixed[lib])
            print(f"{lib:<11} {n:>9,}: {anchors[lib][n]}", flush=True)
            comparison[lib][n] = compare(camelid[n], anchors[lib][n], False)
            comparison[lib][n] |= agreement(mine, theirs, n)
    for lib in args.baselines:
        for n in args.sizes:
            if n not in anchors[lib] and anchors[lib]:
                theirs = extrapolate(anchors[lib], fixed[lib], n)
                comparison[lib][n] = compare(camelid[n], theirs, True)
    comparison = {lib: dict(sorted(by_size.items())) for lib, by_size in comparison.items()}
    out: dict[str, Any] = {"camelid": camelid, **anchors, "comparison": comparison}
    if len(args.sizes) > 1:
        first, last = camelid[args.sizes[0]], camelid[args.size]
        out["growth"] = {
            "from": args.sizes[0],
            "to": args.size,
            "size_ratio": args.size / args.sizes[0],
            "time_ratio_wall": round(last["wall_s"] / first["wall_s"], 2),
            "time_ratio_cpu": round(last["cpu_s"] / first["cpu_s"], 2),
            "memory_ratio": round(last["peak_rss_mb"] / first["peak_rss_mb"], 2),
        }
    return out


def header(baselines: list[str]) -> dict[str, Any]:
    """What ran where, and how the sides differ; printed before anything is measured."""
    about: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("camelid", "numpy", *baselines)},
        "algorithms": {"common": COMMON} | {k: ALGORITHMS[k] for k in ("camelid", *baselines)},
    }
    print("dedup benchmark:", ", ".join(f"{k} {v}" for k, v in about["versions"].items()))
    print(f"machine: {about['machine']}; python {about['python']}")
    print(f"The sides run different algorithms ({COMMON}):")
    for name in ("camelid", *baselines):
        print(f"  {name}: {ALGORITHMS[name]}")
    return about


def main() -> None:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = header(args.baselines)
    print(f"generating {args.size:,} records under {OUT} (cached) ...", flush=True)
    results["corpus"] = data_file(args.size, args.size)[1]
    print(f"timing corpus: {results['corpus']}", flush=True)
    results["startup"] = fixed = startup(args.baselines)
    print(f"start-up (an empty input): {fixed}", flush=True)
    runs = timings(args, fixed)
    print("labelled set (repository text and ../shared/data seeds) ...", flush=True)
    results["quality"] = quality(args.baselines)

    print()
    print_runs("camelid", runs["camelid"], fixed["camelid"])
    for lib in args.baselines:
        print_runs(lib, runs[lib], fixed[lib])
    print_comparison(runs["comparison"])
    if "growth" in runs:
        print(f"camelid's growth: {json.dumps(runs['growth'])}")
    print(
        f"precision / recall over pairs (labelled set {results['quality']['fingerprint']}; "
        "tune = even originals, report = odd):"
    )
    print_quality(results["quality"], args.baselines)
    results |= json.loads(json.dumps(runs))  # sizes as string keys, as JSON has them
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
