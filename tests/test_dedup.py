"""`camelid dedup`: clusters of each method on a fixture, which record is kept, --mark,
decontamination naming the benchmark record, stats, errors, and memory on a large file."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camelid.stages.dedup.ann import neighbour_pairs
from camelid.stages.dedup.cluster import WINDOW, components, lsh_components, representatives
from camelid.stages.dedup.minhash import MinHasher, MinHashParams, compact, estimate, optimal_bands
from tests.conftest import SEED_TASKS, camelid

# a~b: equal once normalized. c~d: one word of twelve changed (Jaccard 10/12, ROUGE-L 0.92).
# g~h: the same question in other words (only the embedding method sees it, tested elsewhere).
ROWS: list[dict[str, Any]] = [
    {"id": "a", "instruction": "Name three fruits.", "output": "Apple, pear, plum.",
     "scores": {"quality": 3}},
    {"id": "b", "instruction": "name three   FRUITS!!", "output": "Figs, kiwis and dates.",
     "scores": {"quality": 5}},
    {"id": "c", "instruction": "Write a short poem about the sea and the waves at night.",
     "output": "Waves."},
    {"id": "d", "instruction": "Write a short poem about the ocean and the waves at night.",
     "output": "The moon pulls the tide across the dark water."},
    {"id": "e", "instruction": "Explain how photosynthesis turns light into chemical energy.",
     "input": "Keep it short."},
    {"id": "f", "instruction": "Describe the rules of chess.", "input": "For a child."},
    {"id": "g", "instruction": "What is the capital of France?"},
    {"id": "h", "instruction": "Which city is the capital of France?"},
    {"id": "m", "messages": [{"role": "user", "content": "hi"}]},  # no instruction nor input
]  # fmt: skip
# Spacing and key order of the lines themselves: kept lines must come out byte for byte.
LINES = [json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in ROWS]
BENCHMARK = [
    {"id": "bq1", "question": "Which city is the capital city of France?"},
    {"id": "bq2", "question": "Explain, step by step, how photosynthesis turns light into "
     "chemical energy stored in glucose, and name the pigments involved."},
    {"id": "bq3", "question": "What is the capital of France"},
]  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "in.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (tmp_path / "bench.jsonl").write_text("\n".join(json.dumps(b) for b in BENCHMARK) + "\n")
    return tmp_path


def dedup(cwd: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return camelid("dedup", *args, input=input, cwd=cwd)


def ids(stdout: str) -> list[str]:
    return [json.loads(line)["id"] for line in stdout.splitlines()]


def marks(stdout: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r["dedup"] for r in map(json.loads, stdout.splitlines())}


@pytest.mark.parametrize(
    ("method", "kept"),
    [
        ("exact", ["a", "c", "d", "e", "f", "g", "h", "m"]),
        ("minhash", ["a", "c", "e", "f", "g", "h", "m"]),
        # ROUGE-L of g and h is 2 * 5 / (6 + 7) = 0.77 > 0.7: Self-Instruct would drop h.
        ("rouge", ["a", "c", "e", "f", "g", "m"]),
    ],
)
def test_each_method_keeps_the_first_of_each_cluster_byte_for_byte(
    data: Path, method: str, kept: list[str]
) -> None:
    result = dedup(data, "in.jsonl", "--method", method)
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == kept
    by_id = dict(zip((r["id"] for r in ROWS), LINES, strict=True))
    assert result.stdout == "".join(by_id[i] + "\n" for i in kept)


@pytest.mark.parametrize("method", ["exact", "minhash", "rouge"])
def test_mark_writes_clusters_and_representatives(data: Path, method: str) -> None:
    result = dedup(data, "in.jsonl", "--method", method, "--mark")
    assert result.returncode == 0, result.stderr
    got = marks(result.stdout)
    assert list(got) == [r["id"] for r in ROWS]  # every record, in order
    clusters = {"exact": [["a", "b"]], "minhash": [["a", "b"], ["c", "d"]]}
    clusters["rouge"] = [["a", "b"], ["c", "d"], ["g", "h"]]
    groups = clusters[method]
    in_group = {i: g for g in groups for i in g}
    numbers: list[int] = []
    for record_id, mark in got.items():
        group = in_group.get(record_id, [record_id])
        assert mark["representative"] == group[0]
        assert mark["duplicate"] is (record_id != group[0])
        assert mark["cluster"] == got[group[0]]["cluster"]
        numbers.append(mark["cluster"])
    assert sorted(set(numbers)) == list(range(len(ROWS) - sum(len(g) - 1 for g in groups)))
    assert numbers == sorted(numbers)  # numbered by first appearance
    assert got["b"]["similarity"] == 1.0


def test_rejects_name_the_kept_record_and_the_similarity(data: Path) -> None:
    result = dedup(data, "in.jsonl", "--rejects", "rej.jsonl", "--method", "rouge")
    rejects = [json.loads(line) for line in (data / "rej.jsonl").read_text().splitlines()]
    assert [(r["where"], r["reason"]) for r in rejects] == [
        ("in.jsonl:2", "duplicate of in.jsonl:1 (id a) by rouge: ROUGE-L F1 1.00 > 0.7"),
        ("in.jsonl:4", "duplicate of in.jsonl:3 (id c) by rouge: ROUGE-L F1 0.92 > 0.7"),
        ("in.jsonl:8", "duplicate of in.jsonl:7 (id g) by rouge: ROUGE-L F1 0.77 > 0.7"),
    ]
    assert rejects[0]["stage"] == "dedup" and rejects[0]["record"] == ROWS[1]
    assert result.stderr.splitlines()[0].startswith("dedup: read 9, kept 6, dropped 3 in ")


def test_minhash_reason_and_verify(data: Path) -> None:
    dedup(data, "in.jsonl", "--rejects", "rej.jsonl", "--verify")
    reasons = [json.loads(x)["reason"] for x in (data / "rej.jsonl").read_text().splitlines()]
    # Exact Jaccard of the word sets: a/b 3/3, c/d 10/12.
    assert reasons == [
        "duplicate of in.jsonl:1 (id a) by minhash: Jaccard 1.00",
        "duplicate of in.jsonl:3 (id c) by minhash: Jaccard 0.83",
    ]


@pytest.mark.parametrize(
    ("keep", "kept"),
    [
        ("best-score", ["b", "c", "e", "f", "g", "h", "m"]),  # b scores 5; c, d have none
        ("longest", ["b", "d", "e", "f", "g", "h", "m"]),  # b and d have the longer output
    ],
)
def test_keep_chooses_the_representative(data: Path, keep: str, kept: list[str]) -> None:
    result = dedup(data, "in.jsonl", "--keep", keep)
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == kept  # still in input order


def test_keep_best_score_by_aspect(tmp_path: Path) -> None:
    rows = [
        {"id": "x", "instruction": "Sort the list.", "scores": {"quality": 5, "safety": 1}},
        {"id": "y", "instruction": "sort the list", "scores": {"quality": 2, "safety": 4}},
    ]
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    by_mean = dedup(tmp_path, "--keep", "best-score", "--method", "exact", input=lines)
    assert ids(by_mean.stdout) == ["x"]  # means 3 and 3: the first
    by_safety = dedup(
        tmp_path, "--keep", "best-score", "--keep-aspect", "safety", "--method", "exact",
        input=lines,
    )  # fmt: skip
    assert ids(by_safety.stdout) == ["y"]


def test_fields_choose_what_is_compared(data: Path) -> None:
    result = dedup(data, "in.jsonl", "--method", "exact", "--fields", "output")
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == [r["id"] for r in ROWS]  # every output differs
    by_input = dedup(data, "in.jsonl", "--method", "exact", "--fields", "input", "--mark")
    # Only e and f have an input: the others have no text to compare and are all kept.
    assert not any(m["duplicate"] for m in marks(by_input.stdout).values())
    assert "7 without text in the compared fields, kept" in by_input.stderr


def test_decontamination_names_the_benchmark_record(data: Path) -> None:
    result = dedup(
        data, "in.jsonl", "--against", "bench.jsonl", "--against-ngram", "6",
        "--rejects", "rej.jsonl", "--stats", "stats.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == ["a", "c", "f", "m"]
    rejects = [json.loads(x) for x in (data / "rej.jsonl").read_text().splitlines()]
    # h shares no 6 words in a row with bq1 (which city is the capital | city of france), but
    # the same set of words.
    assert [(r["record"]["id"], r["reason"]) for r in rejects] == [
        ("b", "duplicate of in.jsonl:1 (id a) by minhash: estimated Jaccard 1.00"),
        ("d", f"duplicate of in.jsonl:3 (id c) by minhash: estimated Jaccard {_est('c', 'd')}"),
        ("e", 'shares the 6-word sequence "how photosynthesis turns light into chemical" with '
              "benchmark record bench.jsonl:2 (id bq2) (containment 0.14 of its 6-grams)"),
        ("g", 'shares the 6-word sequence "what is the capital of france" with '
              "benchmark record bench.jsonl:3 (id bq3) (containment 1.00 of its 6-grams)"),
        ("h", "near-duplicate of benchmark record bench.jsonl:1 (id bq1): "
              "estimated Jaccard 1.00"),
    ]  # fmt: skip
    stats = json.loads((data / "stats.json").read_text())
    assert {k: stats[k] for k in ("read", "kept", "dropped", "clusters", "duplicates")} == {
        "read": 9, "kept": 4, "dropped": 5, "clusters": 2, "duplicates": 2,
    }  # fmt: skip
    assert stats["dropped_by"] == {"against 6-gram": 2, "against minhash": 1, "minhash": 2}
    assert stats["contaminated_by"] == {"6-gram": 2, "minhash": 1}
    assert stats["params"]["against"] == ["bench.jsonl"]
    assert (stats["params"]["bands"], stats["params"]["rows"]) == (18, 7)
    assert "3 found in the benchmarks: 2 by 6-gram, 1 by minhash" in result.stderr


def _est(a: str, b: str) -> str:
    """camelid's estimate for two fixture records, as the reason prints it."""
    texts = [next(r["instruction"] for r in ROWS if r["id"] == x) for x in (a, b)]
    sig, _ = MinHasher(MinHashParams()).signatures(texts)
    return f"{estimate(compact(sig), np.array([0]), np.array([1]))[0]:.2f}"


def test_default_13_gram_and_mark_of_contaminated_records(data: Path) -> None:
    long_copy = {"id": "z", "instruction": "Please explain, step by step, how photosynthesis "
                 "turns light into chemical energy stored in glucose, thanks."}  # fmt: skip
    (data / "more.jsonl").write_text(json.dumps(long_copy) + "\n")
    result = dedup(data, "in.jsonl", "more.jsonl", "--against", "bench.jsonl", "--mark")
    got = marks(result.stdout)
    assert got["z"] == {
        "contaminated": 'shares the 13-word sequence "explain step by step how photosynthesis '
        'turns light into chemical energy stored in" with benchmark record bench.jsonl:2 '
        "(id bq2) (containment 0.29 of its 13-grams)",
        "benchmark": "bench.jsonl:2",
        "benchmark_id": "bq2",
    }
    assert got["e"]["duplicate"] is False  # 7 words shared: under 13, and not similar enough
    # bq3 has 6 words, no 13-gram: found whole inside g
    assert got["g"]["contaminated"] == (
        'holds the whole of benchmark record bench.jsonl:3 (id bq3): "what is the capital of france"'
    )
    assert got["h"]["contaminated"].startswith("near-duplicate of benchmark record bench.jsonl:1")


def test_exact_and_rouge_against_benchmark(data: Path) -> None:
    exact = dedup(data, "in.jsonl", "--method", "exact", "--against", "bench.jsonl", "--rejects",
                  "rej.jsonl")  # fmt: skip
    assert ids(exact.stdout) == ["a", "c", "d", "e", "f", "h", "m"]
    rejects = [json.loads(x) for x in (data / "rej.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects] == [
        "duplicate of in.jsonl:1 (id a) by exact: same normalized text",
        # g is bq3 itself; short benchmark items are matched whole before the method runs
        'holds the whole of benchmark record bench.jsonl:3 (id bq3): "what is the capital of '
        'france"',
    ]
    rouge = dedup(data, "in.jsonl", "--method", "rouge", "--against", "bench.jsonl")
    assert ids(rouge.stdout) == ["a", "c", "e", "f", "m"]  # g matches bq3 (1.0), h bq1 (0.93)


def test_stdin_and_summary(data: Path) -> None:
    result = dedup(data, input="\n".join(LINES) + "\n")
    assert ids(result.stdout) == ["a", "c", "e", "f", "g", "h", "m"]
    lines = result.stderr.splitlines()
    assert lines[0].startswith("dedup: read 9, kept 7, dropped 2 (see --rejects FILE) in ")
    assert lines[1:] == [
        "  2 duplicates in 2 clusters (minhash)",
        "  1 without text in the compared fields, kept",
    ]
    assert dedup(data, "-q", input=LINES[0]).stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "exact", "--threshold", "0.5"],
         "--threshold does not apply to --method exact"),
        (["--threshold", "1.5"], "--threshold 1.5: must be above 0 and at most 1"),
        (["--tokenizer", "rouge"], "--tokenizer applies to --method rouge, not minhash"),
        (["--method", "rouge", "--num-perm", "64"],
         "--num-perm applies to --method minhash, not rouge"),
        (["--method", "exact", "--embedding-model", "x"],
         "--embedding-model applies to --method embedding, not exact"),
        (["--bands", "20", "--rows", "7"],
         "--bands 20 x --rows 7 = 140 is more than the 128 permutations (--num-perm)"),
        (["--keep-aspect", "quality"], "--keep-aspect needs --keep best-score"),
        (["--against", "missing.jsonl"], "--against missing.jsonl: no such file"),
        (["--against-fields", "question"], "--against-fields needs --against FILE"),
        (["--fields", " , "], "--fields: give at least one field name, e.g. --fields "
                              "instruction,input"),
        (["--stats", "nowhere/s.json"], "nowhere/s.json: its folder nowhere does not exist"),
        (["--method", "embedding", "--embedding-model", "in.jsonl"],
         "--embedding-model in.jsonl: no such folder"),
    ],
)  # fmt: skip
def test_usage_errors(data: Path, args: list[str], message: str) -> None:
    result = dedup(data, "in.jsonl", *args)
    assert (result.returncode, result.stderr, result.stdout) == (
        2,
        f"camelid: error: {message}\n",
        "",
    )


def test_help_imports_no_model_library(data: Path) -> None:
    probe = "import sys; sys.argv = ['camelid', 'dedup', '--help']\nfrom camelid.app import main\n"
    probe += "try:\n    main()\nexcept SystemExit:\n    pass\n"
    probe += "print(sorted(m for m in sys.modules if m.split('.')[0] in "
    probe += "('torch', 'transformers', 'sentence_transformers')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=data)
    assert out.stdout.splitlines()[-1] == "[]"
    assert "--method <exact|minhash|rouge|embedding>" in out.stdout


def test_benchmark_without_text_is_refused(data: Path) -> None:
    (data / "odd.jsonl").write_text('{"answer": "B"}\n')
    result = dedup(data, "in.jsonl", "--against", "odd.jsonl")
    assert result.returncode == 2
    assert result.stderr == (
        "camelid: error: --against: no benchmark record has text in "
        "instruction,input,question,prompt,problem,text\n"
    )


def test_bad_input_names_file_and_line(data: Path) -> None:
    (data / "bad.jsonl").write_text(LINES[0] + '\n{"instruction": 5}\n')
    result = dedup(data, "bad.jsonl", "-o", "out.jsonl")
    assert (result.returncode, result.stderr) == (
        65, 'camelid: error: bad.jsonl:2: field "instruction": expected a string, got a number\n'
    )  # fmt: skip
    assert not (data / "out.jsonl").exists()  # nothing half-written
    (data / "bench2.jsonl").write_text("{oops\n")
    result = dedup(data, "in.jsonl", "--against", "bench2.jsonl")
    assert result.returncode == 65
    assert result.stderr.startswith("camelid: error: bench2.jsonl:1: invalid JSON")


def test_skip_bad_lines_keeps_numbering(data: Path) -> None:
    text = LINES[0] + "\nnot json\n\n" + LINES[1] + "\n"
    result = dedup(data, "--skip-bad-lines", "--rejects", "rej.jsonl", "--method", "exact",
                   input=text)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == ["a"]
    rejects = [json.loads(x) for x in (data / "rej.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["where"]) for r in rejects] == [
        ("read", "<stdin>:2"),
        ("dedup", "<stdin>:4"),
    ]
    assert rejects[1]["reason"] == "duplicate of <stdin>:1 (id a) by exact: same normalized text"


# Units: the pieces the methods are made of.


def test_exact_normalizes_case_punctuation_spaces_and_unicode_form() -> None:
    from camelid.stages.dedup.exact import normalized_hash

    same = ["Café au lait?", "CAFE\u0301  au LAIT", "Ｃａｆé au lait!!"]  # combining, fullwidth
    assert len({normalized_hash(t) for t in same}) == 1
    assert normalized_hash("Cafe au lait") != normalized_hash(same[0])
    assert normalized_hash("?!") is None  # nothing left: such records take part in no cluster


def test_char_shingles_and_explicit_banding(data: Path) -> None:
    result = dedup(
        data, "in.jsonl", "--unit", "char", "--ngram", "3", "--bands", "32", "--rows", "4",
        "--stats", "s.json",
    )  # fmt: skip
    assert ids(result.stdout) == ["a", "c", "e", "f", "g", "h", "m"]
    params = json.loads((data / "s.json").read_text())["params"]
    assert (params["unit"], params["ngram"], params["bands"], params["rows"]) == ("char", 3, 32, 4)


def test_default_banding_and_estimates() -> None:
    assert optimal_bands(0.7, 128) == (18, 7)
    rng = random.Random(3)
    words = [f"w{i}" for i in range(5000)]
    errors = []
    hasher = MinHasher(MinHashParams())
    for _ in range(200):
        shared = rng.sample(words, rng.randint(5, 60))
        a = shared + rng.sample(words, rng.randint(0, 30))
        b = shared + rng.sample(words, rng.randint(0, 30))
        truth = len(set(a) & set(b)) / len(set(a) | set(b))
        sig, _ = hasher.signatures([" ".join(a), " ".join(b)])
        errors.append(estimate(compact(sig), np.array([0]), np.array([1]))[0] - truth)
    assert abs(np.mean(errors)) < 0.01  # unbiased
    assert np.std(errors) < 0.06  # sqrt(J(1-J)/128) is at most 0.044


def test_a_big_bucket_is_checked_in_linear_pairs() -> None:
    keys = np.zeros((5000, 3), dtype=np.uint32)  # 5000 copies: one bucket in every band
    checked: list[int] = []

    def confirm(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        checked.append(len(left))
        return (left % 2) == (right % 2)  # two clusters: even and odd indices

    roots = lsh_components(keys, np.arange(5000), 5000, confirm)
    assert sum(checked) <= (WINDOW + 1) * 5000 * 3  # per band, not 12.5 million
    assert roots.tolist() == [i % 2 for i in range(5000)]


def test_components_chain_and_representatives() -> None:
    roots = components(6, np.array([[3, 4], [1, 4], [0, 5]]))
    assert roots.tolist() == [0, 1, 2, 1, 1, 0]
    priority = np.array([0.0, 1.0, 0.0, 2.0, 2.0, 5.0])
    assert representatives(roots, priority).tolist() == [5, 3, 2, 3, 3, 5]


def test_ivf_finds_the_pairs_all_pairs_would() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3000, 32)).astype(np.float32)
    near = base[:600] + 0.15 * rng.normal(size=(600, 32)).astype(np.float32)
    vectors = np.concatenate([base, near])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    brute = neighbour_pairs(vectors, 0.9, exact_up_to=10**9)
    ivf = neighbour_pairs(vectors, 0.9, exact_up_to=0)
    assert len(brute) >= 590
    found = {tuple(p) for p in ivf.tolist()}
    assert found <= {tuple(p) for p in brute.tolist()}
    assert len(found) >= 0.97 * len(brute)


# Memory: what is kept per record is a signature, not the record.


def _generate(path: Path, n: int) -> None:
    seeds = [json.loads(x)["instruction"] for x in SEED_TASKS.read_text().splitlines()]
    vocab = sorted({w for s in seeds for w in s.split()})
    rng = random.Random(n)
    with open(path, "w") as f:
        for i in range(n):
            words = rng.choice(seeds).split()
            text = " ".join(rng.choice(vocab) if rng.random() < 0.4 else w for w in words)
            output = " ".join(rng.choices(vocab, k=250))  # ~1.7 KB a record
            f.write(json.dumps({"id": f"r{i}", "instruction": text, "output": output}) + "\n")


def _peak_rss_mb(path: Path) -> float:
    """Peak RSS of a dedup subprocess, read in a fresh parent so earlier children do not count."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'camelid', 'dedup', sys.argv[1], '-q'], "
        "stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return int(out.stdout) / 1024


def test_pipe_into_head_ends_quietly(tmp_path: Path) -> None:
    _generate(tmp_path / "in.jsonl", 3000)  # ~5 MB of output: more than a pipe holds
    cmd = f"{sys.executable} -m camelid dedup in.jsonl | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=tmp_path
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["id"] == "r0"


def test_memory_grows_by_signatures_not_records(tmp_path: Path) -> None:
    small, large = tmp_path / "20k.jsonl", tmp_path / "200k.jsonl"
    _generate(small, 20_000)
    _generate(large, 200_000)
    growth = (_peak_rss_mb(large) - _peak_rss_mb(small)) * 2**20
    extra_input = large.stat().st_size - small.stat().st_size
    # Kept per record: a compact signature (128 bytes), band keys (72), id, line, priority;
    # not its ~1.7 KB of text, which as Python objects would take several times that.
    assert growth / 180_000 < 700, growth / 180_000
    assert growth < 0.35 * extra_input, (growth, extra_input)


SHORT_PROMPTS = [  # public-benchmark-style prompts of 5 to 12 words
    "Rewrite the given text and correct grammar, spelling, and punctuation errors.",
    "Summarize the following article in three sentences.",
    "Translate the sentence into French.",
    "Classify the sentiment of this review as positive or negative.",
    "Write a haiku about autumn leaves falling.",
    "Explain the difference between weather and climate to a child.",
    "List five fruits that are high in vitamin C.",
    "Give the opposite of each word below.",
]


def test_short_benchmark_prompts_are_found_whole_inside_longer_records(tmp_path: Path) -> None:
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"id": f"s{i}", "instruction": p}) + "\n"
                             for i, p in enumerate(SHORT_PROMPTS)))  # fmt: skip
    rows = [{"id": f"copy{i}", "instruction": prompt,
             "input": "Their going to the libary tomorow, and they was happy about it."}
            for i, prompt in enumerate(SHORT_PROMPTS)]  # fmt: skip
    rows += [{"id": f"wrapped{i}", "instruction": f"Please help me with this. {prompt} Thanks a lot."}
             for i, prompt in enumerate(SHORT_PROMPTS)]  # fmt: skip
    clean = [{"id": "clean1", "instruction": "Rewrite the story so that it ends happily."},
             {"id": "clean2", "instruction": "Translate the menu, then list the desserts."}]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows + clean))
    result = camelid("dedup", str(src), "--against", str(bench), "--method", "exact",
                     "--rejects", str(tmp_path / "rej.jsonl"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ids(result.stdout) == ["clean1", "clean2"]  # every verbatim copy caught
    rejects = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    first = rejects[0]
    assert first["record"]["id"] == "copy0"
    assert first["reason"] == (
        f'holds the whole of benchmark record {bench}:1 (id s0): "rewrite the given text and '
        'correct grammar spelling and punctuation errors"'
    )


def test_containment_threshold_asks_for_more_than_one_shared_ngram(data: Path) -> None:
    strict = dedup(data, "in.jsonl", "--against", "bench.jsonl", "--against-ngram", "6",
                   "--against-containment", "0.5", "--mark")  # fmt: skip
    got = marks(strict.stdout)
    assert "contaminated" not in got["e"]  # 2 of bq2's 14 6-grams: 0.14 < 0.5
    assert "containment 1.00" in got["g"]["contaminated"]  # bq3's one 6-gram: all of it
    bad = dedup(data, "in.jsonl", "--against", "bench.jsonl", "--against-containment", "2")
    assert bad.returncode == 2 and "--against-containment 2: must be from 0 to 1" in bad.stderr
