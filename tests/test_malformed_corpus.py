"""A corpus of malformed JSONL files, generated here, through commands that read records.

Each file starts with good records (so the command has already written some output when it
meets the bad line). Every one must end with exit 65, one line on stderr naming file and line,
and nothing left behind: no output file, no rejects file, no temp file beside them, and an
existing output file untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from camelid.io import MAX_DEPTH
from tests.conftest import camelid


def good(n: int) -> bytes:
    """A record both commands accept: pairs makes a pair of it, filter keeps it."""
    completions = [{"text": f"a{n}", "scores": {"q": 1}}, {"text": f"b{n}", "scores": {"q": 5}}]
    return json.dumps({"instruction": f"q{n}", "completions": completions}).encode()


HEAD = good(1) + b"\n" + good(2) + b"\n"  # the bad line is line 3
TAIL = b"\n" + good(4) + b"\n"
BIG = 50 * 1024 * 1024

# (id, the bad line 3, the problem named on stderr)
BAD_LINES = [
    ("truncated", b'{"instruction": "q3", "completions": [', "invalid JSON: unexpected end of data"),
    ("array", b'[{"instruction": "q3"}]', "expected a JSON object, got an array"),
    ("number", b"42", "expected a JSON object, got a number"),
    ("latin-1", b'{"instruction": "caf\xe9"}', "invalid JSON: not valid UTF-8 (byte 0xe9 at offset 20)"),
    ("nan", b'{"instruction": "q3", "score": NaN}', "invalid JSON: unexpected character, expected a JSON value"),
    ("huge-float", b'{"instruction": "q3", "score": 1e400}', "invalid JSON: number is infinity when parsed as double"),
    ("lone-surrogate", b'{"instruction": "\\ud83e"}', "invalid JSON: no low surrogate in string"),
    ("trailing-comma", b'{"instruction": "q3",}', "invalid JSON: trailing comma is not allowed"),
    ("old-mac-cr", b'{"instruction": "q3"}\r{"instruction": "q4"}', "invalid JSON: unexpected content after document"),
    ("control-char", b'{"instruction": "q\x003"}', "invalid JSON: unexpected control character in string"),
    ("bom-mid-file", b'\xef\xbb\xbf{"instruction": "q3"}', "invalid JSON: UTF-8 byte order mark (BOM) is not supported"),
    ("deep-10000", b'{"instruction": "q3", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
     f"invalid JSON: arrays and objects nested more than {MAX_DEPTH} levels deep"),
    ("truncated-50MB", b'{"instruction": "' + b"x" * BIG, "invalid JSON: unexpected end of data"),
]  # fmt: skip
COMMANDS = {"pairs": ["pairs"], "filter": ["filter", "--require", "instruction"]}


def start(*args: str, stdin: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "camelid", *args]
    with open(stdin or "/dev/null", "rb") as source:  # the child keeps its own copy
        return subprocess.Popen(cmd, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_bytes(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Like conftest.camelid, but bytes out: text mode would turn CRLF into LF."""
    proc = start(*args)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def check_refused(tmp: Path, data: bytes, where: str, problem: str, stdin: bool = False) -> None:
    """Both commands (run side by side: there are two cores), each in its own folder."""
    runs = {}
    for command, args in COMMANDS.items():
        folder = tmp / command
        folder.mkdir()
        src = folder / "in.jsonl"
        src.write_bytes(data)
        out, rejects = folder / "out.jsonl", folder / "rejects.jsonl"
        source = "-" if stdin else str(src)
        proc = start(
            *args, source, "-o", str(out), "--rejects", str(rejects), stdin=src if stdin else None
        )
        runs[command] = (proc, src)
    for command, (proc, src) in runs.items():
        stdout, stderr = proc.communicate(timeout=600)
        name = "<stdin>" if stdin else str(src)
        assert (command, proc.returncode) == (command, 65), stderr[-2000:]
        assert (command, stderr.decode()) == (
            command,
            f"camelid: error: {where.format(src=name)}: {problem}\n",
        )
        assert stdout == b""
        assert [p.name for p in src.parent.iterdir()] == ["in.jsonl"]  # no out, rejects, temps


@pytest.mark.parametrize(
    ("bad", "problem"), [c[1:] for c in BAD_LINES], ids=[c[0] for c in BAD_LINES]
)
def test_malformed_line_exit_65_nothing_written(tmp_path: Path, bad: bytes, problem: str) -> None:
    check_refused(tmp_path, HEAD + bad + TAIL, "{src}:3", problem)


def test_utf16_file_is_named_at_line_1(tmp_path: Path) -> None:
    # What PowerShell's `>` writes: UTF-16 with a byte-order mark.
    data = (HEAD + TAIL).decode().encode("utf-16")
    problem = "invalid JSON: not valid UTF-8 (byte 0xff at offset 0; UTF-16? save it as UTF-8)"
    check_refused(tmp_path, data, "{src}:1", problem)


def test_stdin_is_named(tmp_path: Path) -> None:
    data = HEAD + b'{"a": 1,}\n'
    check_refused(tmp_path, data, "{src}:3", "invalid JSON: trailing comma is not allowed", True)


@pytest.mark.parametrize("command", COMMANDS)
def test_existing_output_is_left_untouched(tmp_path: Path, command: str) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(HEAD + b"[1]" + TAIL)
    out.write_bytes(b'{"old": true}\n')
    result = camelid(*COMMANDS[command], str(src), "-o", str(out))
    assert result.returncode == 65
    assert result.stderr == f"camelid: error: {src}:3: expected a JSON object, got an array\n"
    assert out.read_bytes() == b'{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (b'{"instruction": 3}', 'field "instruction": Input should be a valid string'),
        (b'{"scores": {"q": "high"}}',
         'field "scores.q": Input should be a valid number, unable to parse string as a number'),
    ],
)  # fmt: skip
def test_record_level_problems_exit_65(tmp_path: Path, bad: bytes, problem: str) -> None:
    # filter checks only the fields its predicates name; commands that read whole records check all
    src = tmp_path / "in.jsonl"
    src.write_bytes(HEAD + bad + TAIL)
    result = camelid("pairs", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert result.returncode == 65
    assert result.stderr == f"camelid: error: {src}:3: {problem}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_odd_but_valid_file_passes_both_commands(tmp_path: Path) -> None:
    # BOM, CRLF, blank lines, U+2028/U+2029, NUL escapes, a 300-digit integer, a missing final
    # newline: filter copies each kept line byte for byte; pairs reads every record.
    odd = {"instruction": "a\u2028b\u2029c\x00 🦙", "n": 10**300, "completions": [
        {"text": "x", "scores": {"q": 1}}, {"text": "y", "scores": {"q": 2}}]}  # fmt: skip
    line = json.dumps(odd, ensure_ascii=False).encode()
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + line + b"\r\n\r\n  \n" + good(2) + b"\r\n" + line)
    kept = run_bytes("filter", "--require", "instruction", str(src), "--quiet")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == line + b"\r\n" + good(2) + b"\r\n" + line + b"\n"
    made = camelid("pairs", str(src), "--quiet")
    assert made.returncode == 0, made.stderr
    # not str.splitlines(): it would split at U+2028 and U+2029 too
    records = [json.loads(r) for r in made.stdout.split("\n")[:-1]]
    assert [(r["instruction"], r.get("n"), r["chosen"]) for r in records] == [
        (odd["instruction"], 10**300, "y"),
        ("q2", None, "b2"),
        (odd["instruction"], 10**300, "y"),
    ]


def test_duplicate_keys_last_one_wins(tmp_path: Path) -> None:
    # RFC 8259 leaves duplicate names to the parser; camelid does what jq, Python and
    # JavaScript do: the last value wins, for every command alike.
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"instruction": "first", "output": "x", "instruction": "last"}\n')
    kept = camelid("filter", "--match", "instruction=^last$", str(src), "--quiet")
    assert kept.returncode == 0 and kept.stdout.encode() == src.read_bytes()  # copied as it was
    rendered = camelid("packs", "render", "plain", str(src))
    assert rendered.returncode == 0 and "last" in rendered.stdout and "first" not in rendered.stdout


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_generation_command_meets_a_late_bad_line_before_writing(
    tmp_path: Path, existing: bool
) -> None:
    # Generation commands write -o in place batch by batch (for --resume), so they read their
    # whole input first: a bad last line stops the run before any record is written.
    src, out, replies = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "replies.jsonl"
    src.write_bytes(b"".join(good(n) + b"\n" for n in range(1, 9)) + b"[1]\n")
    replies.write_text('"an answer"\n')
    if existing:
        out.write_bytes(b'{"old": true}\n')
    result = camelid("respond", str(src), "--engine", "scripted", "--replies", str(replies),
                     "--batch-size", "1", "-o", str(out), "--rejects", str(tmp_path / "r.jsonl"))  # fmt: skip
    assert result.returncode == 65
    assert result.stderr.endswith(
        f"camelid: error: {src}:9: expected a JSON object, got an array\n"
    )
    names = (
        ["in.jsonl", "out.jsonl", "replies.jsonl"] if existing else ["in.jsonl", "replies.jsonl"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert not existing or out.read_bytes() == b'{"old": true}\n'
