"""`camelid pairs`: chosen/rejected from scored completions, seeded picks, ties, margins, rejects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from camelid.records import Record
from camelid.stages.pairs import PairOptions, make_pair
from tests.conftest import camelid

P1 = {
    "id": "p1",
    "system": "Be brief.",
    "instruction": "Name a colour.",
    "source": "seed",
    "tags": ["easy"],
    "completions": [
        {"text": "Red.", "model": "m1", "scores": {"helpfulness": 5, "honesty": 5}},
        {"text": "Blue is one.", "model": "m2", "scores": {"helpfulness": 3, "honesty": 4}},
        {"text": "Colours vary.", "model": "m3", "scores": {"helpfulness": 2, "honesty": 3}},
        {"text": "?", "model": "m4", "scores": {"helpfulness": None, "honesty": None}},
    ],
}
TIE = {
    "id": "tie",
    "instruction": "Say hi.",
    "completions": [{"text": "Hi", "scores": {"q": 4}}, {"text": "Hello", "scores": {"q": 4}}],
}
ONE = {
    "id": "one",
    "instruction": "One.",
    "completions": [{"text": "x", "scores": {"q": 4}}, {"text": "y", "scores": {"q": None}}],
}
NONE = {"id": "none", "instruction": "No answers."}
ASPECTS = {
    "id": "p5",
    "instruction": "Pick.",
    "input": "a or b",
    "completions": [
        {"text": "a", "model": "m1", "scores": {"helpfulness": 5, "honesty": 1}},
        {"text": "b", "model": "m2", "scores": {"helpfulness": 2, "honesty": 5}},
    ],
}
ROWS = [P1, TIE, ONE, NONE, ASPECTS]


def pair_of(row: dict[str, Any], **options: Any) -> dict[str, Any] | str:
    result = make_pair(Record.model_validate(row), PairOptions(**options))
    return result if isinstance(result, str) else result.to_dict()


def lineage(**settings: Any) -> list[dict[str, Any]]:
    return [{"stage": "pairs", "rejected": "random", "min_margin": 0.0, "seed": 0, **settings}]


def test_random_rejected_is_seeded_by_seed_and_id() -> None:
    assert pair_of(P1) == {
        "id": "p1",
        "instruction": "Name a colour.",
        "system": "Be brief.",
        "chosen": "Red.",
        "rejected": "Blue is one.",
        "tags": ["easy"],
        "source": "seed",
        "lineage": lineage(),
        "chosen_score": 5.0,
        "rejected_score": 3.5,
        "chosen_model": "m1",
        "rejected_model": "m2",
    }
    other = pair_of(P1, seed=1)
    assert (other["rejected"], other["rejected_score"], other["rejected_model"]) == (
        "Colours vary.",
        2.5,
        "m3",
    )
    assert other["lineage"] == lineage(seed=1)


def test_worst_and_aspects() -> None:
    worst = pair_of(P1, rejected="worst")
    assert (worst["chosen"], worst["rejected"], worst["rejected_score"]) == (
        "Red.",
        "Colours vary.",
        2.5,
    )
    assert worst["lineage"] == [{"stage": "pairs", "rejected": "worst", "min_margin": 0.0}]
    # The mean of all aspects prefers b (3.5 over 3); helpfulness alone prefers a.
    assert pair_of(ASPECTS) == {
        "id": "p5",
        "instruction": "Pick.",
        "input": "a or b",
        "chosen": "b",
        "rejected": "a",
        "lineage": lineage(),
        "chosen_score": 3.5,
        "rejected_score": 3.0,
        "chosen_model": "m2",
        "rejected_model": "m1",
    }
    by_help = pair_of(ASPECTS, aspects=("helpfulness",))
    assert (by_help["chosen"], by_help["chosen_score"], by_help["rejected_score"]) == (
        "a",
        5.0,
        2.0,
    )
    assert by_help["lineage"] == lineage(aspects=["helpfulness"])


@pytest.mark.parametrize(
    ("row", "options", "reason"),
    [
        (TIE, {}, "tie: chosen and rejected both score 4"),
        (ONE, {}, "need 2 scored completions, got 1"),
        (NONE, {}, "need 2 scored completions, got 0"),
        (P1, {"min_margin": 2}, "margin 1.5 < 2"),
        (P1, {"aspects": ("clarity",)}, "need 2 scored completions, got 0"),
    ],
)
def test_dropped_with_reason(row: dict, options: dict, reason: str) -> None:
    assert pair_of(row, **options) == reason


def test_margin_met_by_another_pick() -> None:
    assert pair_of(P1, min_margin=2, seed=1)["rejected"] == "Colours vary."  # margin 2.5


# --- the command --------------------------------------------------------------------------------


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_cli_pairs_and_rejects(tmp_path: Path) -> None:
    src = write(tmp_path / "scored.jsonl", ROWS)
    out, rejects = tmp_path / "pairs.jsonl", tmp_path / "rejects.jsonl"
    result = camelid("pairs", str(src), "-o", str(out), "--rejects", str(rejects))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        pair_of(P1),
        pair_of(ASPECTS),
    ]
    assert [
        (r["reason"], r["where"], r["record"]["id"]) for r in map(json.loads, rejects.open())
    ] == [
        ("tie: chosen and rejected both score 4", f"{src}:2", "tie"),
        ("need 2 scored completions, got 1", f"{src}:3", "one"),
        ("need 2 scored completions, got 0", f"{src}:4", "none"),
    ]
    assert result.stderr.startswith("pairs: read 5, wrote 2, rejected 3 in ")


def test_cli_picks_do_not_depend_on_order(tmp_path: Path) -> None:
    many = [{**P1, "id": f"r{i}"} for i in range(12)]
    forward = camelid("pairs", str(write(tmp_path / "f.jsonl", many)), "--seed", "7", "-q")
    backward = camelid("pairs", str(write(tmp_path / "b.jsonl", many[::-1])), "--seed", "7", "-q")
    picks = [json.loads(line)["rejected"] for line in forward.stdout.splitlines()]
    assert picks == [json.loads(line)["rejected"] for line in backward.stdout.splitlines()][::-1]
    assert set(picks) == {"Blue is one.", "Colours vary."}  # random, not always the same


def test_cli_options(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", [ASPECTS])
    args = ["--aspects", "helpfulness, honesty", "--rejected", "worst", "--min-margin", "0.5"]
    result = camelid("pairs", str(src), *args, "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lineage"] == [
        {
            "stage": "pairs",
            "rejected": "worst",
            "min_margin": 0.5,
            "aspects": ["helpfulness", "honesty"],
        }
    ]
    result = camelid("pairs", str(src), "--aspects", " , ")
    assert (result.returncode, result.stderr) == (
        2,
        "camelid: error: --aspects: give at least one aspect name, e.g. --aspects quality\n",
    )


def test_cli_bad_line_exit_65_and_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(P1) + '\n{"id": "x", "completions": [}\n')
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = camelid("pairs", str(src), "-o", str(out), "--rejects", str(rejects))
    assert result.returncode == 65
    assert (
        result.stderr
        == f"camelid: error: {src}:2: invalid JSON: unexpected character, expected a JSON value\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
