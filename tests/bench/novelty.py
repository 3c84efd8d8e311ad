"""Benchmark: camelid's ROUGE-L novelty pool against rouge_score's naive Self-Instruct loop.

Run with `make bench` (or `python tests/bench/novelty.py [SIZES...]`). For 1k / 5k / 20k / 50k
generated instructions it times `NoveltyPool.check_and_add` over all of them (seeds first), and
the references. The naive Alpaca loop (`_score_lcs` on pre-tokenized instructions against the
whole pool) runs in full up to 5k (a few minutes here): its measured time and its decisions are
the ground truth. Beyond that the naive loops are too slow to run, so their time is
extrapolated: the per-pair cost on a sample of the very pairs the loop would score, times the
number of pairs (the sum over the run of the pool size); every such figure is labelled
"extrapolated". Two references per pair: `RougeScorer.score(new, old)` as the original
Self-Instruct calls it, and `_score_lcs` as Alpaca does (cheaper, so the stricter comparison).

A third, fair baseline shows what the pruning buys apart from C++ against pure Python: brute
force in C++ (rapidfuzz's LCS of every pair on the same token ids, rouge_score's F-measure in
numpy), run in full up to 20k. Target: >= 1000x against rouge_score at 20k.

Times are CPU seconds of this process (time.process_time): CI jobs share the two cores, and
wall time would mostly measure them. Both sides are single-threaded. camelid's time is the best
of 3 runs up to 20k, the reference's per-pair time the best of 3 passes over its sample, so the
noise cannot flatter camelid. Decisions are checked one by one: against the full naive
rouge_score loop where it runs (up to 5k), and against the brute-force search up to 20k.

Writes out/bench/novelty.json. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import bisect
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS_FILE = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
SIZES = [1_000, 5_000, 20_000, 50_000]
FULL_REFERENCE_UP_TO = 5_000  # the naive loop is run in full up to this size
BRUTE_FORCE_UP_TO = 20_000  # brute force (every pair, C++) is run and timed up to this size
AVG_UP_TO = 20_000  # avg=True (mean over the whole pool) is timed up to this size
BEST_OF_UP_TO = 20_000  # camelid's time is the best of 3 runs up to this size
SAMPLE_PAIRS = 5_000
REPEATS = 3  # the reference's per-pair time is the best of these (conservative)


def load_seeds() -> tuple[list[str], list[str]]:
    """Seed instructions, and the words of their instances (a realistic vocabulary)."""
    rows = [json.loads(line) for line in SEEDS_FILE.read_text().splitlines() if line.strip()]
    words = [
        w
        for r in rows
        for inst in r["instances"]
        for w in (inst["input"] + " " + inst["output"]).split()
        if re.fullmatch(r"[A-Za-z][A-Za-z'-]*[,.]?", w)
    ]
    return [r["instruction"] for r in rows], words


def near_duplicate(text: str, words: list[str], rng: random.Random) -> str:
    """One to three edits: swap, delete, insert, upper-case, strip punctuation, truncate."""
    out = text.split()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        if op == 0 and len(out) > 2:
            i = rng.randrange(len(out) - 1)
            out[i], out[i + 1] = out[i + 1], out[i]
        elif op == 1 and len(out) > 3:
            del out[rng.randrange(len(out))]
        elif op == 2:
            out.insert(rng.randrange(len(out) + 1), rng.choice(words))
        elif op == 3:
            out = [w.upper() if rng.random() < 0.2 else w for w in out]
        elif op == 4:
            out = [w.strip(".,?!:") for w in out]
        elif op == 5 and len(out) > 4:
            out = out[: -rng.randint(1, 2)]
    return " ".join(out)


def novel(seeds: list[str], words: list[str], rng: random.Random) -> str:
    """The head of one seed and the tail of another, a third of the words replaced."""
    a, b = rng.choice(seeds).split(), rng.choice(seeds).split()
    out = a[: rng.randint(1, max(1, len(a) - 1))] + b[rng.randint(1, max(1, len(b) - 1)) :]
    out = [rng.choice(words) if rng.random() < 0.35 else w for w in out]
    if rng.random() < 0.3:
        out += rng.choice(seeds).split()[: rng.randint(2, 6)]
    return " ".join(out)


def instructions(n: int, seeds: list[str], words: list[str], seed: int = 0) -> list[str]:
    """n instructions: about 80% new combinations, 20% near-duplicates of earlier ones."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.2:
            out.append(near_duplicate(rng.choice(out + seeds), words, rng))
        else:
            out.append(novel(seeds, words, rng))
    return out


def run_camelid(seeds: list[str], texts: list[str], avg: bool) -> tuple[float, float, list[bool]]:
    """(CPU seconds, wall seconds, keep/drop decisions) of one pass through a fresh pool."""
    from camelid.novelty import NoveltyPool

    cpu, wall = time.process_time(), time.perf_counter()
    pool = NoveltyPool(seeds)
    kept = [pool.check_and_add(text, avg=avg).novel for text in texts]
    return time.process_time() - cpu, time.perf_counter() - wall, kept


def reference_per_pair(
    seeds: list[str], texts: list[str], kept: list[bool], rng: random.Random
) -> dict[str, float]:
    """CPU seconds per pair of both references, on pairs sampled uniformly from the naive loop."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = list(seeds) + [t for t, k in zip(texts, kept, strict=True) if k]
    sizes, size = [], len(seeds)  # the pool size when each text is checked
    for k in kept:
        sizes.append(size)
        size += k
    cumulative = [0]
    for s in sizes:
        cumulative.append(cumulative[-1] + s)
    pairs = []
    for _ in range(SAMPLE_PAIRS):
        t = rng.randrange(cumulative[-1])
        i = bisect.bisect_right(cumulative, t) - 1
        pairs.append((texts[i], pool[t - cumulative[i]]))
    tokenize = scorer._tokenizer.tokenize
    tokenized = [(tokenize(new), tokenize(old)) for new, old in pairs]
    score_s = lcs_s = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        for new, old in pairs:
            scorer.score(new, old)
        score_s = min(score_s, (time.process_time() - start) / len(pairs))
        start = time.process_time()
        for new_tokens, old_tokens in tokenized:
            rouge_scorer._score_lcs(new_tokens, old_tokens)
        lcs_s = min(lcs_s, (time.process_time() - start) / len(pairs))
    return {"score": score_s, "lcs": lcs_s}


def naive_loop(seeds: list[str], texts: list[str]) -> tuple[float, list[bool]]:
    """The Alpaca loop in full: pre-tokenized pool, _score_lcs against every entry."""
    from rouge_score import rouge_scorer

    tokenize = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
    start = time.process_time()
    pool = [tokenize(s) for s in seeds]
    kept = []
    for text in texts:
        tokens = tokenize(text)
        scores = [rouge_scorer._score_lcs(tokens, p).fmeasure for p in pool]
        novel = max(scores) <= 0.7
        if novel:
            pool.append(tokens)
        kept.append(novel)
    return time.process_time() - start, kept


def brute_force(seeds: list[str], texts: list[str]) -> tuple[float, list[bool]]:
    """(CPU seconds, decisions) without pruning: the LCS of every pair (rapidfuzz, on token ids)
    and rouge_score's F-measure formula, in numpy."""
    import numpy as np
    from rapidfuzz import process
    from rapidfuzz.distance import LCSseq

    from camelid.text import unicode_tokenize

    vocab: dict[str, int] = {}

    def encode(text: str) -> str:
        return "".join(chr(vocab.setdefault(t, len(vocab))) for t in unicode_tokenize(text))

    start = time.process_time()
    pool = [encode(s) for s in seeds]
    lengths = [len(p) for p in pool]
    kept = []
    for text in texts:
        query = encode(text)
        lcs = process.cdist([query], pool, scorer=LCSseq.similarity)[0]
        precision = lcs / np.array(lengths)
        recall = lcs / len(query)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
        novel = not len(query) or float(f1.max()) <= 0.7
        if novel:
            pool.append(query)
            lengths.append(len(query))
        kept.append(novel)
    return time.process_time() - start, kept


def main(sizes: list[int]) -> None:
    seeds, words = load_seeds()
    rng = random.Random(0)
    results = []
    previous = None
    for n in sizes:
        texts = instructions(n, seeds, words)
        runs = [run_camelid(seeds, texts, avg=False) for _ in range(3 if n <= BEST_OF_UP_TO else 1)]
        camelid_s = min(r[0] for r in runs)
        camelid_wall_s = min(r[1] for r in runs)
        kept = runs[0][2]
        avg_s = run_camelid(seeds, texts, avg=True)[0] if n <= AVG_UP_TO else None
        size, pairs = len(seeds), 0
        for k in kept:
            pairs += size
            size += k
        per_pair = reference_per_pair(seeds, texts, kept, rng)
        row = {
            "instructions": n,
            "kept": sum(kept),
            "pairs_naive_loop": pairs,
            "camelid_cpu_s": round(camelid_s, 3),
            "camelid_wall_s": round(camelid_wall_s, 3),
            "camelid_with_avg_cpu_s": None if avg_s is None else round(avg_s, 3),
            "reference_score_us_per_pair": round(per_pair["score"] * 1e6, 2),
            "reference_lcs_us_per_pair": round(per_pair["lcs"] * 1e6, 2),
            "reference_score_cpu_s": round(per_pair["score"] * pairs, 1),
            "reference_lcs_cpu_s": round(per_pair["lcs"] * pairs, 1),
            "speedup_vs_score": round(per_pair["score"] * pairs / camelid_s),
            "speedup_vs_lcs": round(per_pair["lcs"] * pairs / camelid_s),
        }
        if avg_s is not None:
            row["speedup_with_avg_vs_score"] = round(per_pair["score"] * pairs / avg_s)
            row["speedup_with_avg_vs_lcs"] = round(per_pair["lcs"] * pairs / avg_s)
        if previous is not None:
            # How each cost grows from the previous size (the naive loop's grows with pairs).
            row["growth_instructions"] = round(n / previous["instructions"], 2)
            row["growth_camelid"] = round(camelid_s / previous["camelid_cpu_s"], 2)
            row["growth_reference"] = round(pairs / previous["pairs_naive_loop"], 2)
        row["reference_extrapolated"] = n > FULL_REFERENCE_UP_TO
        if n <= FULL_REFERENCE_UP_TO:
            full_s, expected = naive_loop(seeds, texts)
            row["reference_lcs_full_run_cpu_s"] = round(full_s, 1)
            row["speedup_vs_lcs_full_run"] = round(full_s / camelid_s)
            row["identical_to_rouge_score_loop"] = kept == expected
        if n <= BRUTE_FORCE_UP_TO:
            brute_s, expected = brute_force(seeds, texts)
            row["brute_force_cpu_s"] = round(brute_s, 2)
            row["speedup_vs_brute_force"] = round(brute_s / camelid_s, 1)
            row["identical_to_brute_force"] = kept == expected
        results.append(row)
        previous = row
        print(json.dumps(row), file=sys.stderr)
    report(results)


def report(results: list[dict]) -> None:
    print(
        f"\n{'n':>7} {'kept':>7} {'pairs':>13} {'camelid s':>10} {'+avg s':>8} "
        f"{'brute C++ s':>12} {'x brute':>8} {'ref _score_lcs s':>17} {'x lcs':>8} "
        f"{'ref score() s':>14} {'x score()':>10} {'growth':>12}"
    )
    for r in results:
        avg = r["camelid_with_avg_cpu_s"]
        growth = (
            f"{r['growth_camelid']:.1f} vs {r['growth_reference']:.1f}"
            if "growth_camelid" in r
            else "-"
        )
        brute = r.get("brute_force_cpu_s")
        if r["reference_extrapolated"]:
            lcs_s, lcs_x, mark = r["reference_lcs_cpu_s"], r["speedup_vs_lcs"], "*"
        else:  # measured: the full naive loop ran
            lcs_s, lcs_x, mark = r["reference_lcs_full_run_cpu_s"], r["speedup_vs_lcs_full_run"], ""
        cells = [
            "-" if avg is None else f"{avg:.1f}",
            "-" if brute is None else f"{brute:.1f}",
            "-" if brute is None else f"{r['speedup_vs_brute_force']:.1f}",
            f"{lcs_s:,.0f}{mark}",
            f"{lcs_x:,}{mark}",
            f"{r['reference_score_cpu_s']:,.0f}*",
            f"{r['speedup_vs_score']:,}*",
        ]
        print(
            f"{r['instructions']:>7} {r['kept']:>7} {r['pairs_naive_loop']:>13,} "
            f"{r['camelid_cpu_s']:>10.2f} {cells[0]:>8} {cells[1]:>12} {cells[2]:>8} "
            f"{cells[3]:>17} {cells[4]:>8} {cells[5]:>14} {cells[6]:>10} {growth:>12}"
        )
    print(
        "(CPU seconds, one thread each; * extrapolated from the per-pair cost on a sample of the"
        " loop's pairs; unstarred: run in full. growth: camelid's time vs the naive loop's pairs,"
        " from the size before)"
    )
    for r in results:
        checks = [
            f"{name} {r[key]}"
            for key, name in [
                ("identical_to_rouge_score_loop", "same as the full rouge_score loop:"),
                ("identical_to_brute_force", "same as brute force:"),
            ]
            if key in r
        ]
        if checks:
            print(f"{r['instructions']}: decisions " + ", ".join(checks))
        if "reference_lcs_full_run_cpu_s" in r:
            print(
                f"{r['instructions']}: the full rouge_score loop took "
                f"{r['reference_lcs_full_run_cpu_s']} s; the per-pair extrapolation would have "
                f"said {r['reference_lcs_cpu_s']} s"
            )
    for r in results:
        if r["instructions"] == 20_000:
            print(
                f"target >= 1000x at 20k (extrapolated): {r['speedup_vs_score']:,}x against "
                f"score(), {r['speedup_vs_lcs']:,}x against pre-tokenized _score_lcs; "
                f"{r['speedup_vs_brute_force']}x against brute force in C++ (measured)"
            )
    out = ROOT / "out" / "bench" / "novelty.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "novelty",
        "clock": "process CPU time (time.process_time)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "threshold": 0.7,
        "target_speedup_at_20k": 1000,
        "results": results,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or SIZES)
