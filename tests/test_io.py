"""The JSONL contract: exact round trips, bad lines named by file and line, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.errors import BadInputError
from camelid.io import AtomicWriter, dumps, iter_lines, loads, parse_object, to_record
from camelid.runtime import Run, RunOptions
from tests.conftest import camelid

ODD_STRINGS = [
    "plain",
    "naïve café — “quotes” 中文 ελληνικά 🦙",
    "line\u2028separator\u2029paragraph",
    "tab\tnewline\ncarriage\rnull\u0000",
    "x" * 1_000_000,
]


@pytest.mark.parametrize("text", ODD_STRINGS)
def test_strings_round_trip_exactly(text: str) -> None:
    line = dumps({"instruction": text})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert loads(line.rstrip(b"\n")) == {"instruction": text}


def test_big_integers_round_trip_exactly() -> None:
    value = {"n": 123456789012345678901234567890, "m": -(2**70)}
    line = dumps(value)
    assert line == b'{"n":123456789012345678901234567890,"m":-1180591620717411303424}\n'
    assert loads(line.rstrip()) == value


def test_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\r\n\r\n   \n{"a":2}\r\n')
    lines = list(iter_lines([str(path)]))
    assert [(n, line) for _, n, line in lines] == [(1, b'{"a":1}'), (4, b'{"a":2}')]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"instruction": "x"', "invalid JSON: unexpected end of data"),
        (b'{"instruction": "\\ud800"}', "invalid JSON: no low surrogate in string"),
        (b'{"score": NaN}', "invalid JSON: unexpected character"),
        (b'{"n": 12345678901234567890123, "x": NaN}', "invalid JSON: unexpected character"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'"text"', "expected a JSON object, got a string"),
        (b"\xff\xfe{}", "invalid JSON"),
    ],
)
def test_malformed_lines_are_named(line: bytes, problem: str) -> None:
    with pytest.raises(BadInputError) as err:
        parse_object("data.jsonl", 7, line)
    assert str(err.value).startswith(f"data.jsonl:7: {problem}")


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(BadInputError) as err:
        to_record("d.jsonl", 2, {"instruction": "x", "scores": {"quality": "high"}})
    assert str(err.value) == (
        'd.jsonl:2: field "scores.quality": Input should be a valid number, '
        "unable to parse string as a number"
    )


def test_unknown_keys_pass_through_in_order() -> None:
    record = to_record("d", 1, {"zeta": 1, "instruction": "hi", "alpha": {"b": [1]}, "meta": None})
    assert list(record.to_dict()) == ["id", "instruction", "zeta", "alpha", "meta"]
    assert record.to_dict()["alpha"] == {"b": [1]} and record.to_dict()["meta"] is None


def test_atomic_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), AtomicWriter(str(out)) as writer:
        writer.write({"a": 1})
        writer.flush()
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_writer_keeps_old_file_until_success(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    writer = AtomicWriter(str(out))
    writer.write({"a": 1})
    writer.flush()
    assert out.read_text() == "old\n"  # readers never see a half-written file
    writer.commit()
    assert out.read_text() == '{"a":1}\n'


def test_run_with_bad_line_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "a"}\n{"instruction": "b"\n')
    out = tmp_path / "out.jsonl"
    with pytest.raises(BadInputError), Run("t", RunOptions(str(out), quiet=True)) as run:
        run.write(run.records([str(src)]))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


BAD_FILE = '{"instruction": "first"}\n{"instruction": "second",}\n{"instruction": 5}\n'


def test_cli_bad_line_exit_65_and_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(BAD_FILE)
    out = tmp_path / "out.jsonl"
    result = camelid("packs", "render", "plain", str(src), "--limit", "5")
    assert result.returncode == 65
    assert (
        result.stderr == f"camelid: error: {src}:2: invalid JSON: trailing comma is not allowed\n"
    )
    replies = tmp_path / "r.jsonl"
    replies.write_text('"ok"\n')
    args = ["respond", str(src), "-o", str(out), "--engine", "scripted", "--replies", str(replies)]
    result = camelid(*args)
    assert result.returncode == 65
    assert "in.jsonl:2: invalid JSON" in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "in.jsonl",
        "r.jsonl",
    ]


def test_cli_skip_bad_lines_moves_them_to_rejects(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(BAD_FILE)
    replies = tmp_path / "r.jsonl"
    replies.write_text('"ok"\n')
    rejects = tmp_path / "rejects.jsonl"
    result = camelid(
        "respond", str(src), "--engine", "scripted", "--replies", str(replies),
        "--skip-bad-lines", "--rejects", str(rejects),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["output"] for line in result.stdout.splitlines()] == ["ok"]
    got = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert got == [
        {
            "stage": "read",
            "reason": "invalid JSON: trailing comma is not allowed",
            "where": f"{src}:2",
            "line": '{"instruction": "second",}',
        },
        {
            "stage": "read",
            "reason": 'field "instruction": Input should be a valid string',
            "where": f"{src}:3",
            "line": '{"instruction": 5}',
        },
    ]
    assert result.stderr.strip().startswith("respond: read 1, wrote 1, rejected 2")


def test_cli_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    result = camelid("respond", str(tmp_path / "nope.jsonl"), "--engine", "scripted",
                     "--replies", str(tmp_path / "nope.jsonl"))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == "camelid: error: --replies " + str(tmp_path / "nope.jsonl") + (
        ": no such file\n"
    )


def test_run_with_unwritable_rejects_leaves_no_temp_output(tmp_path: Path) -> None:
    from camelid.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        Run("t", RunOptions(str(tmp_path / "out.jsonl"), str(tmp_path / "no" / "rej.jsonl")))
    assert list(tmp_path.iterdir()) == []


def test_devices_and_symlinks_are_written_in_place(tmp_path) -> None:
    from camelid.io import AtomicWriter

    with AtomicWriter("/dev/null") as w:
        w.write({"a": 1})
    assert Path("/dev/null").is_char_device()
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with AtomicWriter(str(link)) as w:
        w.write({"a": 1})
    assert link.is_symlink() and target.read_text() == '{"a":1}\n'
