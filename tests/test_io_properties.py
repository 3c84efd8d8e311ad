"""Property tests for the JSONL layer: every odd line round-trips exactly or is refused with
file and line, never with a traceback.

The oracle for "should this line be accepted" is the standard library's strict JSON parser plus
the rules camelid adds (an object per line, no NaN/Infinity, no lone surrogates, finite numbers,
at most MAX_DEPTH levels of nesting). Examples are derandomized and no example database is kept,
so every run (and CI) checks the same cases.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from camelid.errors import BadInputError
from camelid.io import MAX_DEPTH, dumps, iter_lines, loads, parse_object, to_record
from camelid.records import Record

CHECKS = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Characters that break naive JSONL code: line and paragraph separators (JavaScript and
# str.splitlines() treat them as line ends), NEL, CR, NUL and other controls, BOM and
# non-characters, zero-width and bidi controls, astral characters, JSON's own escapes.
ODD = '\u2028\u2029\u0085\r\n\t\x00\x1b\x1f\x7f\ufeff\ufffe\uffff\u200b\u202e\U0001f999"\\/'
chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from(ODD))
texts = st.text(chars, max_size=30)
numbers = st.one_of(
    st.integers(),
    # exact up to 4300 characters (msgspec's limit counts the sign; Python's 4300 digits do not)
    st.integers(min_value=-(10**4298), max_value=10**4299),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
objects = st.dictionaries(texts, values, max_size=6)


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types at every depth, -0.0 apart from 0.0, and the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@CHECKS
@given(values)
def test_any_json_value_round_trips_exactly(value: Any) -> None:
    line = dumps(value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and b"\r" not in line
    line.decode("utf-8")  # valid UTF-8, written raw (no \u escapes for U+2028 and friends)
    assert same(loads(line.rstrip(b"\n")), value)
    assert dumps(loads(line.rstrip(b"\n"))) == line  # and the bytes are stable


@CHECKS
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["r", "e", "E", "g"]))
def test_float_literals_parse_to_the_same_double(number: float, style: str) -> None:
    literal = {
        "r": repr(number),
        "e": f"{number:.17e}",
        "E": f"{number:.17E}",
        "g": f"{number:.17g}",
    }
    text = literal[style]
    if text.lstrip("-").isdigit():  # "1" from %g is an integer in JSON
        text += ".0"
    assert same(loads(b'{"x":' + text.encode() + b"}")["x"], number)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (b"1e-400", 0.0),  # underflow rounds to zero, as every JSON parser does
        (b"-0.0", -0.0),
        (b"-0", 0),
        (b"18446744073709551616", 2**64),  # beyond 64 bits: kept exact, not made a float
        (b"9" * 4300, int("9" * 4300)),
        (b"-" + b"9" * 4299, -int("9" * 4299)),
    ],
)
def test_edge_numbers(literal: bytes, value: float) -> None:
    parsed = loads(b'{"x":' + literal + b"}")["x"]
    assert same(parsed, value)
    assert dumps({"x": parsed}) == b'{"x":' + dumps(value).rstrip() + b"}\n"


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        (b"1e400", "number is infinity when parsed as double"),
        (b"-1e400", "number is infinity when parsed as double"),
        (b"1" * 4301, "number is infinity when parsed as double"),  # over 4300 characters
        (b"-" + b"9" * 4300, "number is infinity when parsed as double"),
        (b"NaN", "unexpected character, expected a JSON value"),
        (b"Infinity", "unexpected character, expected a JSON value"),
        (b"-Infinity", "no digit after sign"),
    ],
)
def test_numbers_json_cannot_hold_are_refused(literal: bytes, problem: str) -> None:
    with pytest.raises(BadInputError) as err:
        parse_object("in.jsonl", 3, b'{"x":' + literal + b"}")
    assert str(err.value) == f"in.jsonl:3: invalid JSON: {problem}"


def test_non_finite_floats_are_written_as_null_on_both_paths() -> None:
    # orjson writes null; the exact-integer fallback used to write a bare NaN, which is not JSON
    fast = dumps({"x": math.nan, "y": [math.inf, -math.inf]})
    slow = dumps({"n": 2**70, "x": math.nan, "y": [math.inf, -math.inf]})
    assert fast == b'{"x":null,"y":[null,null]}\n'
    assert slow == b'{"n":1180591620717411303424,"x":null,"y":[null,null]}\n'
    assert loads(slow.rstrip()) == {"n": 2**70, "x": None, "y": [None, None]}


# --- files: BOM, CRLF, blank lines, a missing final newline -------------------------------

blank_lines = st.lists(st.sampled_from([b"", b" ", b"\t", b"\r", b"  \t "]), max_size=2)


@CHECKS
@given(
    st.lists(st.tuples(blank_lines, objects), min_size=1, max_size=5),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
    st.booleans(),
)
def test_files_give_back_their_objects_with_line_numbers(
    tmp_path: Path,
    rows: list[tuple[list[bytes], dict[str, Any]]],
    newline: bytes,
    bom: bool,
    final_newline: bool,
) -> None:
    lines, expected = [], []
    for blanks, obj in rows:
        lines += blanks
        lines.append(dumps(obj).rstrip(b"\n"))
        expected.append((len(lines), obj))
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines) + (newline * final_newline)
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    got = [(n, parse_object(name, n, line)) for name, n, line in iter_lines([str(path)])]
    assert [n for n, _ in got] == [n for n, _ in expected]
    assert all(same(a, b) for (_, a), (_, b) in zip(got, expected, strict=True))


# --- records: known fields normalised once, unknown keys untouched --------------------------

KNOWN = set(Record.model_fields)
unknown = st.dictionaries(texts.filter(lambda k: k not in KNOWN), values, max_size=4)
maybe_text = st.none() | texts
records = st.fixed_dictionaries(
    {},
    optional={
        "instruction": texts,
        "input": maybe_text,
        "output": texts,
        "system": texts,
        "tags": st.lists(texts, max_size=3),
        "scores": st.dictionaries(
            texts, st.none() | st.floats(allow_nan=False, allow_infinity=False), max_size=3
        ),
        "messages": st.lists(st.fixed_dictionaries({"role": texts, "content": texts}), max_size=3),
        "completions": st.lists(st.fixed_dictionaries({"text": texts}, optional={"x": values})),
    },
)


@CHECKS
@given(records, unknown)
def test_records_round_trip_and_keep_unknown_keys(known: dict[str, Any], extra: dict[str, Any]):
    data = known | extra
    first = to_record("in.jsonl", 1, parse_object("in.jsonl", 1, dumps(data).rstrip()))
    out = first.to_dict()
    # unknown keys: every one, after the known fields, in their order, with identical values
    if extra:
        assert list(out)[-len(extra) :] == list(extra)
    assert all(same(out[k], v) for k, v in extra.items())
    for field in ("instruction", "input", "output", "system", "tags"):
        if known.get(field) not in (None, []):
            assert same(out[field], known[field])
    if known.get("messages"):  # known keys come out in the model's order: role, content
        assert out["messages"] == known["messages"]
    # a second trip changes nothing: the output is a fixed point, id included
    line = dumps(out)
    again = to_record("out.jsonl", 1, parse_object("out.jsonl", 1, line.rstrip())).to_dict()
    assert dumps(again) == line and again["id"] == first.id


# --- hostile lines: accepted exactly when strict JSON + camelid's rules accept them ----------


def strict_reference(line: bytes) -> dict[str, Any] | None:
    """The stdlib's strict parse, with camelid's extra rules; None where a line must be refused."""

    def refuse(_: str) -> None:
        raise ValueError("NaN/Infinity")

    try:
        value = json.loads(line.decode("utf-8"), parse_constant=refuse)
    except (ValueError, RecursionError):
        return None
    stack, depth_ok = [(value, 1)], True
    while stack:
        item, level = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in item):
            return None
        if isinstance(item, dict):
            depth_ok &= level <= MAX_DEPTH
            stack += [(key, level) for key in item] + [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            depth_ok &= level <= MAX_DEPTH
            stack += [(v, level + 1) for v in item]
    return value if depth_ok and isinstance(value, dict) else None


POISON = [
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b'"\\ud800"', b'"\\udc00"', b'"\\ud800\\u0041"',
    b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x80", b"\x00", b"\x1f", b",", b"]", b"}", b"{",
    b'"', b"\\", b"\xef\xbb\xbf", b"\r", b"\xe2\x80\xa8", b"01", b"1.", b".5", b"+1", b"0x1",
    b"tru", b"'a'", b"//", b"/*", b"\t", b'{"a":1}',
]  # fmt: skip


@st.composite
def mangled_lines(draw: st.DrawFn) -> bytes:
    """A valid line (sometimes with \\u escapes and spaces), then cut, spliced or replaced."""
    obj = draw(objects)
    line = json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=(", ", ": ")).encode()
    how = draw(st.sampled_from(["cut", "insert", "replace", "bytes", "keep"]))
    at = draw(st.integers(0, len(line)))
    if how == "cut":
        return line[:at]
    if how == "insert":
        return line[:at] + draw(st.sampled_from(POISON)) + line[at:]
    if how == "replace":
        return line[:at] + draw(st.sampled_from(POISON)) + line[at + 1 :]
    if how == "bytes":
        return draw(st.binary(max_size=40))
    return line


@CHECKS
@given(mangled_lines())
@example(b'{"a":[1,2,]}')
@example(b'{"a":1,"a":2}')  # duplicate keys: the last wins, as in jq and every JSON library
@example(b'{"a":"\\ud83e\\udd99"}')  # an escaped surrogate pair is a real character
@example(b'{"a":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}")
@example(b'{"a":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")
@example(b'{"a":' + b"[" * 10_000 + b"]" * 10_000 + b"}")
def test_hostile_lines_parse_like_strict_json_or_are_named(line: bytes) -> None:
    expected = strict_reference(line)
    try:
        got = parse_object("in.jsonl", 42, line)
    except BadInputError as exc:
        assert str(exc).startswith("in.jsonl:42: ")
        assert expected is None, f"refused a valid line: {exc}"
        return
    assert expected is not None, "accepted a line strict JSON refuses"
    assert same(got, expected)
    assert same(loads(dumps(got).rstrip()), got)


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.integers(2, 3000), st.sampled_from([(b"[", b"]"), (b'{"k":', b"}")]))
def test_nesting_is_accepted_to_max_depth_then_refused(depth: int, pair: tuple[bytes, bytes]):
    # depth counts the outer object; the inner levels are arrays or objects
    opener, closer = pair
    inner = opener * (depth - 1) + (b"1" if opener == b'{"k":' else b"") + closer * (depth - 1)
    line = b'{"instruction":"x","deep":' + inner + b"}"
    if depth <= MAX_DEPTH:
        record = to_record("in.jsonl", 5, parse_object("in.jsonl", 5, line))
        out = dumps(record.to_dict())
        assert same(loads(out.rstrip())["deep"], loads(line)["deep"])
        return
    with pytest.raises(BadInputError) as err:
        parse_object("in.jsonl", 5, line)
    assert str(err.value) == (
        f"in.jsonl:5: invalid JSON: arrays and objects nested more than {MAX_DEPTH} levels deep"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"a":"caf\xe9"}', "not valid UTF-8 (byte 0xe9 at offset 9)"),
        (b'{"a":"\xed\xa0\x80"}', "not valid UTF-8 (byte 0xed at offset 6)"),  # CESU surrogate
        (
            b"\xff\xfe{\x00}\x00",
            "not valid UTF-8 (byte 0xff at offset 0; UTF-16? save it as UTF-8)",
        ),
        (b'{"a":"\\ud800"}', "no low surrogate in string"),
        (b'{"a":"\\udc00"}', "invalid high surrogate in string"),
    ],
)
def test_encoding_problems_are_named(line: bytes, problem: str) -> None:
    with pytest.raises(BadInputError) as err:
        parse_object("in.jsonl", 2, line)
    assert str(err.value) == f"in.jsonl:2: invalid JSON: {problem}"


def test_a_very_long_line_round_trips(tmp_path: Path) -> None:
    text = ("\u2028llama 🦙 " * 700_000)[:5_000_000]
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\r\n" + dumps({"instruction": text}).replace(b"\n", b"\r\n"))
    [(name, number, line)] = list(iter_lines([str(path)]))
    record = to_record(name, number, parse_object(name, number, line))
    assert number == 2 and record.instruction == text
