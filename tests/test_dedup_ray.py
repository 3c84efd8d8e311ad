"""`dedup --executor ray` on a real Ray cluster (a head and a second node, one CPU each): the
same output bytes, rejects and stats as the local run, on records Arrow could not type.

Each run is a subprocess joining the cluster with --ray-address, as a user would run it; the
local run it is compared with is a subprocess too. The cluster tests are marked slow (the
module's cluster takes ~10 s to start, each test ~6-12 s); the worker's function on shuffled
blocks, and the refused flags, run without one.
"""

from __future__ import annotations

import json
import pickle
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import SEED_TASKS, camelid

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

WORDS = ["quickly", "often", "the", "a", "very", "simple", "café", "日本", "naïve", "data"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    started = Cluster(
        initialize_head=True,
        connect=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    started.add_node(num_cpus=1)
    started.wait_for_nodes()
    yield started
    ray.shutdown()
    started.shutdown()


def seed_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SEED_TASKS.read_text().splitlines()]


def edit(text: str, rng: random.Random) -> str:
    """A near copy: a word or two substituted, dropped or added."""
    words = text.split()
    for _ in range(rng.randint(1, 2)):
        at = rng.randrange(len(words))
        kind = rng.choice(("sub", "drop", "add"))
        if kind == "sub":
            words[at] = rng.choice(WORDS)
        elif kind == "drop" and len(words) > 3:
            del words[at]
        else:
            words.insert(at, rng.choice(WORDS))
    return " ".join(words)


def records(count: int, seed: int) -> list[str]:
    """Lines of seed tasks and near copies of them: ids or none (a content hash then), unknown
    keys of every JSON type, nested values, unicode, records with no text, exact copies, and
    key orders and spacing that only a byte-for-byte copy keeps."""
    rng = random.Random(seed)
    rows = seed_rows()
    out: list[str] = []
    for i in range(count):
        row = rng.choice(rows)
        instruction = row["instruction"]
        if rng.random() < 0.4:
            instruction = edit(instruction, rng)
        record: dict[str, Any] = {"instruction": instruction}
        if rng.random() < 0.8:
            record["id"] = f"r{i}"
        if row["instances"][0]["input"] and rng.random() < 0.7:
            record["input"] = row["instances"][0]["input"]
        kind = i % 7
        if kind == 0:
            record["meta"] = {"n": i, "tags": ["é", None, 1.5, True], "deep": {"x": [[{}]]}}
        elif kind == 1:
            record["meta"] = f"{i} ✓ ünïcödé"  # the same key, another type
        elif kind == 2:
            record["scores"] = {"quality": rng.randint(1, 5)}
            record["big"] = 12345678901234567890123
        elif kind == 3:
            record = {"id": f"m{i}", "messages": [{"role": "user", "content": "hi"}]}  # no text
        elif kind == 4:
            record["output"] = row["instances"][0]["output"]
        if kind == 5 and out:
            out.append(out[-1])  # an exact copy of the line before
            continue
        separators = (", ", ": ") if i % 2 else (",", ":")
        out.append(json.dumps(record, ensure_ascii=bool(i % 3), separators=separators))
    return out


def run_both(tmp: Path, address: str, *args: str) -> dict[str, dict[str, Any]]:
    """The same dedup locally and on the cluster: output, rejects, stats and stderr of each."""
    out: dict[str, dict[str, Any]] = {}
    for executor in ("local", "ray"):
        files = {k: tmp / f"{executor}.{k}" for k in ("out", "rejects", "stats")}
        extra = ["--ray-address", address] if executor == "ray" else []
        result = camelid(
            "dedup", *args, "--executor", executor, *extra,
            "-o", str(files["out"]), "--rejects", str(files["rejects"]),
            "--stats", str(files["stats"]), cwd=tmp,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        stats = json.loads(files["stats"].read_text())
        stats.pop("seconds")
        out[executor] = {
            "out": files["out"].read_bytes(),
            "rejects": files["rejects"].read_bytes(),
            "stats": stats,
            "stderr": re.sub(r"in \d+\.\ds", "in Ns", result.stderr),
        }
    return out


def assert_same(runs: dict[str, dict[str, Any]]) -> None:
    local, remote = runs["local"], runs["ray"]
    assert remote["out"] == local["out"]
    assert remote["rejects"] == local["rejects"]
    assert remote["stats"] == local["stats"]
    assert remote["stderr"] == local["stderr"]  # the summary, and nothing of Ray's


@pytest.mark.slow  # a cluster start, then a local and a ray run
def test_minhash_on_ray_writes_what_the_local_run_writes(tmp_path: Path, cluster: Cluster) -> None:
    lines = records(3000, seed=7)
    # Two files (a block never spans them), bad lines skipped, blank lines ignored.
    (tmp_path / "a.jsonl").write_text("\n".join(lines[:1800]) + "\n\n", encoding="utf-8")
    bad = ["{not json", "[1, 2]", '{"id": "w", "instruction": 5}']
    b = lines[1800:2000] + bad + lines[2000:]
    (tmp_path / "b.jsonl").write_text("\n".join(b) + "\n", encoding="utf-8")

    runs = run_both(tmp_path, cluster.address, "a.jsonl", "b.jsonl", "--skip-bad-lines")

    assert_same(runs)
    stats = runs["ray"]["stats"]
    assert stats["read"] == 3000 and stats["bad_lines"] == 3 and stats["no_text"] > 300
    assert 300 < stats["duplicates"] < 2500  # near copies found, most records kept
    assert b"12345678901234567890123" in runs["ray"]["out"]  # big integers untouched


@pytest.mark.slow  # a cluster start, then a local and a ray run
def test_exact_and_mark_on_ray(tmp_path: Path, cluster: Cluster) -> None:
    (tmp_path / "in.jsonl").write_text("\n".join(records(600, seed=3)) + "\n", encoding="utf-8")
    args = ("in.jsonl", "--method", "exact", "--keep", "longest", "--mark")
    runs = run_both(tmp_path, cluster.address, *args)
    assert_same(runs)
    assert runs["ray"]["stats"]["duplicates"] > 50


@pytest.mark.slow  # a cluster start, then a local and a ray run
def test_decontamination_on_ray(tmp_path: Path, cluster: Cluster) -> None:
    rows = seed_rows()
    bench = [{"id": f"b{k}", "question": rows[k]["instruction"]} for k in range(0, 175, 5)]
    long_text = " ".join(r["instruction"] for r in rows[100:103])  # 13-grams to share
    bench.append({"id": "long", "prompt": long_text})
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps(b) + "\n" for b in bench))
    lines = records(1500, seed=11)
    lines.append(json.dumps({"id": "holds", "instruction": "Please: " + long_text[20:300]}))
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    runs = run_both(tmp_path, cluster.address, "in.jsonl", "--against", "bench.jsonl")

    assert_same(runs)
    by = runs["ray"]["stats"]["contaminated_by"]
    assert by.get("13-gram") and by.get("minhash") and by.get("whole"), by


@pytest.mark.slow  # a cluster start, then a local and a ray run
def test_a_bad_line_stops_the_ray_run_as_it_stops_the_local_one(
    tmp_path: Path, cluster: Cluster
) -> None:
    lines = records(700, seed=5)
    lines.insert(650, '{"id": "x", "instruction": ["not", "text"]}')
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = [
        camelid("dedup", "in.jsonl", *extra, "-o", "out.jsonl", cwd=tmp_path)
        for extra in ([], ["--executor", "ray", "--ray-address", cluster.address])
    ]
    assert [r.returncode for r in results] == [65, 65]
    assert results[1].stderr == results[0].stderr
    assert "in.jsonl:651" in results[0].stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_blocks_merged_or_out_of_order_give_the_local_decisions(tmp_path: Path) -> None:
    """No cluster: the worker's function on shuffled, non-contiguous blocks, its results
    handed back in another order, give the deduplicator what the local pass 1 gives it."""
    pa = pytest.importorskip("pyarrow")
    from camelid.runtime import Run, RunOptions
    from camelid.stages.dedup import ray_signatures as rs
    from camelid.stages.dedup.deduplicator import Deduplicator
    from camelid.stages.dedup.run import scan_here
    from camelid.stages.dedup.settings import Settings, build_method, plan

    lines = records(900, seed=2)
    lines[100] = "{bad"
    half = len(lines) // 2  # two files: a run of rows may span both
    inputs = [(str(tmp_path / name), name) for name in ("a.jsonl", "b.jsonl")]
    for (path, _), part in zip(inputs, (lines[:half], lines[half:]), strict=True):
        Path(path).write_text("\n".join(part) + "\n", encoding="utf-8")
    settings = Settings(keep="longest")
    job = rs.Job(settings, None, "test")
    rng = random.Random(1)
    rows = list(range(len(lines)))
    rng.shuffle(rows)
    payloads = []
    for part in (rows[:300], rows[300:310], rows[310:]):  # each many runs of rows
        table = pa.table({"line": pa.array([lines[r].encode() for r in part]), "row": part})
        payloads += rs.scan_block(table, job)["payload"].tolist()
    rng.shuffle(payloads)

    def outcomes(scan: Any) -> list[Any]:
        dedup = Deduplicator(plan(settings), build_method(settings))
        options = RunOptions(output=str(tmp_path / "out.jsonl"), skip_bad_lines=True, quiet=True)
        with Run("dedup", options) as run:
            bad = scan(run, dedup, inputs)
            dedup.finish()
        every = range(dedup.n)
        return [bad, dedup.files, dedup.no_text, [dedup.outcome(i, True) for i in every],
                [dedup.record_name(i) for i in every]]  # fmt: skip

    def on_ray(run: Any, dedup: Any, inputs: Any) -> set[tuple[str, int]]:
        bad: set[tuple[str, int]] = set()
        rows = np.arange(len(lines))
        files, numbers = (rows >= half).astype(np.int64), rows % half + 1
        for scanned in rs.in_order(pickle.loads(p) for p in payloads):
            rs.RayScan._take(run, dedup, scanned, ["a.jsonl", "b.jsonl"], files, numbers, bad)
        return bad

    local, remote = outcomes(scan_here), outcomes(on_ray)
    assert local[0] == {("a.jsonl", 101)} and local[1] == ["a.jsonl", "b.jsonl"]
    assert remote == local
    assert sum(o.kind == "duplicate" for o in local[3]) > 50


def test_methods_that_cannot_run_on_ray_are_refused(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"instruction": "a"}\n')
    result = camelid("dedup", "in.jsonl", "--method", "rouge", "--executor", "ray", cwd=tmp_path)
    assert result.returncode == 2
    assert "--executor ray: only --method minhash (the default) and exact" in result.stderr
    result = camelid("dedup", "in.jsonl", "--ray-address", "127.0.0.1:1", cwd=tmp_path)
    assert result.returncode == 2
    assert "--ray-address applies to --executor ray" in result.stderr
