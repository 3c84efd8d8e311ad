"""`camelid filter`: every predicate on exact records and reasons, best-of, the byte-exact copy,
rejects and stats files, and the bad-input contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from camelid.fields import BadField
from camelid.stages.filter import Filter, FilterConfig
from tests.conftest import camelid

# Line 1 is spaced and line 4 holds non-ASCII text: kept lines must come out byte for byte.
LINES = [
    '{"id": "a", "instruction": "Name a fruit.", "output": "An apple is a fruit.", '
    '"scores": {"quality": 5, "harmless": 4}, "source": "seed", "tags": ["food"]}',
    '{"id":"b","instruction":"Draw an image of a cat.","output":"I cannot draw.",'
    '"scores":{"quality":3,"harmless":5},"source":"generated"}',
    '{"id":"c","instruction":"Say hi.","output":"Hi","scores":{"quality":null,"harmless":5},'
    '"source":"generated","tags":["greeting"]}',
    '{"id":"d","instruction":"Explain rain.","input":"","output":"Water vapour condenses — '
    'it falls as rain.","scores":{"quality":4.5,"harmless":5},"source":"augmented",'
    '"tags":["science","food"]}',
    '{"id":"e","instruction":"Plot a graph.","output":"As an AI language model, I can\'t plot.",'
    '"source":"generated"}',
]
ROWS = [json.loads(line) for line in LINES]


def run(rows: list[dict[str, Any]], **config: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """(kept ids, [(id, reason)]) of the stage on copies of rows."""
    filt = Filter(FilterConfig(**config))
    kept, drops = [], []
    for row in json.loads(json.dumps(rows)):
        drop = filt.apply(row)
        if drop is None:
            kept.append(row["id"])
        else:
            drops.append((row["id"], drop.reason))
    return kept, drops


MISSING_Q = [("c", "score quality missing"), ("e", "score quality missing")]


@pytest.mark.parametrize(
    ("config", "kept", "drops"),
    [
        ({"min_scores": [("quality", 4)]}, ["a", "d"], [("b", "score quality 3 < 4"), *MISSING_Q]),
        (
            {"max_scores": [("quality", 4)]},
            ["b"],
            [("a", "score quality 5 > 4"), ("c", "score quality missing"),
             ("d", "score quality 4.5 > 4"), ("e", "score quality missing")],
        ),
        (
            {"min_scores": [("quality", 4), ("harmless", 4.5)]},
            ["d"],
            [("a", "score harmless 4 < 4.5"), ("b", "score quality 3 < 4"), *MISSING_Q],
        ),
        (  # the mean is over the non-null scores
            {"min_mean": 4.6},
            ["c", "d"],
            [("a", "mean score 4.5 < 4.6"), ("b", "mean score 4 < 4.6"), ("e", "scores missing")],
        ),
        (
            {"words": (3, 6)},
            ["a", "b"],
            [("c", "output 1 words < 3"), ("d", "output 8 words > 6"), ("e", "output 8 words > 6")],
        ),
        (
            {"chars": (None, 20), "length_field": "instruction"},
            ["a", "c", "d", "e"],
            [("b", "instruction 23 chars > 20")],
        ),
        (
            {"match": [("instruction", re.compile("^(Name|Say)"))]},
            ["a", "c"],
            [(i, "instruction does not match '^(Name|Say)'") for i in "bde"],
        ),
        (
            {"exclude": [("output", re.compile("(?i)as an ai"))]},
            ["a", "b", "c", "d"],
            [("e", "output matches '(?i)as an ai'")],
        ),
        (  # dotted paths; a number is matched as its JSON text
            {"match": [("scores.quality", re.compile(r"^[45]"))]},
            ["a", "d"],
            [(i, "scores.quality does not match '^[45]'") for i in "bce"],
        ),
        (
            {"blacklist": ["image", "as an ai language model", "rain"]},
            ["a", "c"],
            [("b", "blacklisted word 'image' in instruction"),
             ("d", "blacklisted word 'rain' in instruction"),
             ("e", "blacklisted word 'as an ai language model' in output")],
        ),
        (
            {"blacklist": ["rain"], "blacklist_fields": ("output",)},
            ["a", "b", "c", "e"],
            [("d", "blacklisted word 'rain' in output")],
        ),
        (
            {"require": ["input"]},
            [],
            [("a", "input missing"), ("b", "input missing"), ("c", "input missing"),
             ("d", "input empty"), ("e", "input missing")],
        ),
        (
            {"require": ["tags", "scores.quality"]},
            ["a", "d"],
            [("b", "tags missing"), ("c", "scores.quality missing"), ("e", "tags missing")],
        ),
        (
            {"sources": ["seed", "augmented"]},
            ["a", "d"],
            [(i, "source 'generated' not selected") for i in "bce"],
        ),
        ({"tags": ["food"]}, ["a", "d"], [(i, "not tagged food") for i in "bce"]),
        (
            {"tags": ["science", "greeting"]},
            ["c", "d"],
            [(i, "not tagged science or greeting") for i in "abe"],
        ),
        (  # AND-ed; the first failing check in the fixed order is the reason
            {"sources": ["seed", "augmented"], "min_scores": [("quality", 5)], "words": (6, None)},
            [],
            [("a", "output 5 words < 6"), ("b", "source 'generated' not selected"),
             ("c", "source 'generated' not selected"), ("d", "score quality 4.5 < 5"),
             ("e", "source 'generated' not selected")],
        ),
    ],
)  # fmt: skip
def test_predicates(config: dict, kept: list[str], drops: list[tuple[str, str]]) -> None:
    assert run(ROWS, **config) == (kept, drops)


def test_batch_is_apply_in_order() -> None:
    drops = Filter(FilterConfig(tags=["food"], min_scores=[("quality", 5)])).batch(ROWS)
    assert [d and (d.reason, d.key) for d in drops] == [
        None,
        ("not tagged food", ""),
        ("not tagged food", ""),
        ("score quality 4.5 < 5", "score quality < 5"),
        ("not tagged food", ""),
    ]


def test_blacklist_matches_whole_words_in_any_case() -> None:
    rows = [
        {"id": "1", "instruction": "Describe the IMAGE."},
        {"id": "2", "instruction": "Describe the images and imagery."},
        {"id": "3", "instruction": "Write C++ code."},
        {"id": "4", "instruction": "Write C code."},
    ]
    assert run(rows, blacklist=["image", "c++"]) == (
        ["2", "4"],
        [("1", "blacklisted word 'image' in instruction"),
         ("3", "blacklisted word 'c++' in instruction")],
    )  # fmt: skip


def test_wrong_types_are_bad_fields() -> None:
    filt = Filter(FilterConfig(min_scores=[("quality", 4)]))
    with pytest.raises(BadField, match=r'field "scores.quality": expected a number, got a string'):
        filt.apply({"scores": {"quality": "5"}})
    with pytest.raises(BadField, match=r'field "scores": expected an object, got an array'):
        filt.apply({"scores": [5]})
    with pytest.raises(BadField, match=r'field "output": expected a string, got a number'):
        Filter(FilterConfig(words=(1, None))).apply({"output": 5})


# --- best-of (rejection sampling) ---------------------------------------------------------------

CANDIDATES = {
    "id": "p",
    "instruction": "Name a colour.",
    "rationales": {"quality": "judged an older answer"},
    "completions": [
        {"text": "Red.", "model": "m1", "scores": {"helpfulness": 2, "honesty": 5}},
        {
            "text": "Blue, the colour of the sky.",
            "model": "m2",
            "scores": {"helpfulness": 5, "honesty": 4},
            "rationales": {"helpfulness": "complete"},
        },
        {"text": "???", "model": "m3", "scores": {"helpfulness": None, "honesty": None}},
    ],
}


def test_best_of_mean_writes_the_best_completion() -> None:
    record = json.loads(json.dumps(CANDIDATES))
    assert Filter(FilterConfig(best_of=True)).apply(record) is None
    assert record == {
        "id": "p",
        "instruction": "Name a colour.",
        "output": "Blue, the colour of the sky.",
        "scores": {"helpfulness": 5, "honesty": 4},
        "rationales": {"helpfulness": "complete"},
        "lineage": [{"stage": "filter", "best_of": "mean", "candidates": 2, "model": "m2"}],
    }


def test_best_of_keeps_the_system_message_that_produced_the_answer() -> None:
    record = {"id": "q", "instruction": "Add 2 and 3.", "completions": [
        {"text": "5", "system": "Answer briefly.", "system_message": "brief", "scores": {"r": 1}},
        {"text": "2 + 3 = 5, so 5.", "system": "Think step by step.",
         "system_message": "steps", "scores": {"r": 2}},
    ]}  # fmt: skip
    assert Filter(FilterConfig(best_of=True)).apply(record) is None
    assert (record["output"], record["system"], record["system_message"]) == (
        "2 + 3 = 5, so 5.", "Think step by step.", "steps"
    )  # fmt: skip


def test_best_of_aspect_then_threshold() -> None:
    rows = [
        CANDIDATES,
        {"id": "none", "instruction": "x"},
        {"id": "nulls", "completions": [{"text": "t", "scores": {"honesty": None}}]},
        {"id": "other", "completions": [{"text": "t", "scores": {"helpfulness": 3}}]},
    ]
    assert run(rows, best_of_aspect="honesty") == (
        ["p"],
        [("none", "no completion scored on honesty"), ("nulls", "no completion scored on honesty"),
         ("other", "no completion scored on honesty")],
    )  # fmt: skip
    assert run(rows, best_of=True, min_scores=[("helpfulness", 3)]) == (
        ["p", "other"],
        [("none", "no scored completions"), ("nulls", "no scored completions")],
    )
    record = json.loads(json.dumps(CANDIDATES))
    Filter(FilterConfig(best_of_aspect="honesty")).apply(record)
    assert (record["output"], record["lineage"][0]["best_of"]) == ("Red.", "honesty")
    assert "rationales" not in record  # the old ones judged another answer


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_cli_keeps_lines_byte_for_byte_with_rejects_and_stats(src: Path, tmp_path: Path) -> None:
    out, rejects, stats = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "stats.json"
    result = camelid(
        "filter", str(src), "--min-score", "quality=4", "-o", str(out),
        "--rejects", str(rejects), "--stats", str(stats),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == LINES[0] + "\n" + LINES[3] + "\n"
    assert [json.loads(line) for line in rejects.read_text().splitlines()] == [
        {"stage": "filter", "reason": "score quality 3 < 4", "where": f"{src}:2", "record": ROWS[1]},
        {"stage": "filter", "reason": "score quality missing", "where": f"{src}:3", "record": ROWS[2]},
        {"stage": "filter", "reason": "score quality missing", "where": f"{src}:5", "record": ROWS[4]},
    ]  # fmt: skip
    assert stats_without_time(stats) == {
        "command": "filter",
        "read": 5,
        "written": 2,
        "rejected": 3,
        "skipped": 0,
        "kept": 2,
        "dropped": 3,
        "reasons": {"score quality missing": 2, "score quality < 4": 1},
    }
    assert re.fullmatch(
        r"filter: read 5, kept 2, dropped 3 in \d+\.\ds\n  2  score quality missing\n"
        r"  1  score quality < 4\n",
        result.stderr,
    )


def stats_without_time(path: Path) -> dict:
    """The --stats report, its timing left out (the one figure that varies)."""
    report = json.loads(path.read_text())
    assert report.pop("seconds") >= 0
    return report


def test_cli_stdin_blank_lines_and_bom(tmp_path: Path) -> None:
    data = "\ufeff" + LINES[1] + "\n\n" + LINES[0] + "\n  \n" + LINES[3]
    stats = tmp_path / "stats.json"
    result = camelid("filter", "--source", "seed", "-q", "--stats", str(stats), input=data)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == LINES[0] + "\n"
    assert stats_without_time(stats) == {
        "command": "filter",
        "read": 3,
        "written": 1,
        "rejected": 2,
        "skipped": 0,
        "kept": 1,
        "dropped": 2,
        "reasons": {"source not selected": 2},
    }


def test_cli_copies_crlf_lines_and_ends_the_last_line(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b'{"id": 1, "tags": ["x"]}\r\n{"id": 2}\r\n')
    second.write_bytes(b'{"id":3,"tags":["x"]}')  # no newline at the end
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["--tag", "x", "-q", "-o", str(out), "--rejects", str(rejects)]
    result = camelid("filter", "a.jsonl", "b.jsonl", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b'{"id": 1, "tags": ["x"]}\r\n{"id":3,"tags":["x"]}\n'
    assert rejects.read_bytes() == (
        b'{"stage":"filter","reason":"not tagged x","where":"a.jsonl:2","record":{"id": 2}}\n'
    )


def test_cli_blacklist_file_and_best_of(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("# words the answers must not use\nsky\n\n")
    result = camelid(
        "filter", "--best-of", "--blacklist-file", str(words), "--blacklist", "x,y", "-q",
        input=json.dumps(CANDIDATES) + "\n" + json.dumps({**CANDIDATES, "id": "q"}) + "\n",
    )  # fmt: skip
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")
    result = camelid("filter", "--best-of-aspect", "honesty", "-q", input=json.dumps(CANDIDATES))
    assert json.loads(result.stdout)["output"] == "Red."


BAD = LINES[0] + "\n" + LINES[1] + '\n{"id": "x",}\n' + LINES[3] + "\n"


def test_cli_bad_line_exit_65_and_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(BAD)
    out, rejects, stats = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "stats.json"
    args = ["--rejects", str(rejects), "--stats", str(stats), "-o", str(out)]
    result = camelid("filter", str(src), "--min-score", "quality=1", *args)
    assert result.returncode == 65
    assert result.stderr == (
        f"camelid: error: {src}:3: invalid JSON: trailing comma is not allowed\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_cli_skip_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(BAD + "[1]\n")
    rejects, stats = tmp_path / "rej.jsonl", tmp_path / "stats.json"
    result = camelid(
        "filter", str(src), "--min-score", "quality=4", "--skip-bad-lines", "-q",
        "--rejects", str(rejects), "--stats", str(stats),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == LINES[0] + "\n" + LINES[3] + "\n"
    assert [json.loads(line) for line in rejects.read_text().splitlines()] == [
        {"stage": "filter", "reason": "score quality 3 < 4", "where": f"{src}:2", "record": ROWS[1]},
        {"stage": "read", "reason": "invalid JSON: trailing comma is not allowed",
         "where": f"{src}:3", "line": '{"id": "x",}'},
        {"stage": "read", "reason": "expected a JSON object, got an array",
         "where": f"{src}:5", "line": "[1]"},
    ]  # fmt: skip
    assert json.loads(stats.read_text())["reasons"] == {"bad line": 2, "score quality < 4": 1}


def test_cli_wrong_type_is_bad_input() -> None:
    result = camelid("filter", "--min-score", "quality=4", input='{"scores": {"quality": "5"}}\n')
    assert result.returncode == 65
    assert result.stderr == (
        'camelid: error: <stdin>:1: field "scores.quality": expected a number, got a string\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to filter by: add a predicate, e.g. --min-score quality=4"),
        (["--min-score", "quality"], "--min-score 'quality': expected NAME=VALUE"),
        (["--max-score", "quality=high"], "--max-score 'quality=high': 'high' is not a number"),
        (["--min-score", "quality=nan"], "--min-score 'quality=nan': 'nan' is not a number"),
        (
            ["--match", "output=("],
            "--match 'output=(': bad regular expression: missing ), unterminated subpattern "
            "at position 0",
        ),
        (["--min-words", "9", "--max-words", "3"], "--min-words 9 is above --max-words 3"),
        (["--blacklist-file", "nope.txt"], "nope.txt: cannot read the blacklist: No such file "
         "or directory"),
        (["--tag", "x", "--stats", "no/such/dir/s.json"], "no/such/dir/s.json: its folder "
         "no/such/dir does not exist"),
        (["--tag", "x", "missing.jsonl"], "missing.jsonl: no such file"),
    ],
)  # fmt: skip
def test_cli_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = camelid("filter", *args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"camelid: error: {message}\n")


def test_top_keeps_the_best_share_by_a_score_as_read(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "scores": {"quality": q}} for i, q in
            enumerate([2.5, 4.0, None, 4.0, 1.0, 3.5, 5.0, 2.0])]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rejects, stats = tmp_path / "rej.jsonl", tmp_path / "stats.json"
    result = camelid("filter", str(src), "--top", "50%", "--top-by", "quality",
                     "--rejects", str(rejects), "--stats", str(stats))  # fmt: skip
    assert result.returncode == 0, result.stderr
    kept = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert kept == ["r1", "r3", "r5", "r6"]  # 4 of 8, in input order; ties by input order
    dropped = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [d["record"]["id"] for d in dropped] == ["r0", "r2", "r4", "r7"]
    assert dropped[0]["reason"] == "not in the top 50% by quality (< 3.5)"
    assert json.loads(stats.read_text())["reasons"] == {"not in the top 50% by quality": 4}
    three = camelid("filter", str(src), "--top", "3", "--min-score", "quality=4")
    assert [json.loads(x)["id"] for x in three.stdout.splitlines()] == ["r1", "r3", "r6"]
    bad = camelid("filter", str(src), "--top", "half")
    assert bad.returncode == 2
    assert "--top 'half' is not a count or a percentage (e.g. 100 or 50%)" in bad.stderr
