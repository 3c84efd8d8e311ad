"""Reading JSONL: camelid's reader against the `jsonlines` library, side by side.

Both parse with msgspec (jsonlines takes a custom `loads`), on the same file of N instruction
records, best of 3 runs each: (1) parsing alone, (2) parsing and validating each record as a
camelid Record, which is what every record command does. camelid's reader also keeps each
line's raw bytes and number (its error messages name the line, the byte and the problem; BOM,
CRLF, UTF-16 and nesting depth are handled); jsonlines gives the parsed value. Prints
records/s and the ratios; writes out/bench/jsonl_read.json.

    python tests/bench/jsonl_read.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import jsonlines
import msgspec

from camelid.io import iter_lines, parse_object, to_record

ROOT = Path(__file__).resolve().parents[2]


def make_file(path: Path, n: int) -> None:
    row = {"instruction": "Give three tips for staying healthy.", "input": "",
           "output": "Eat well, sleep enough and move every day. " * 4,
           "scores": {"quality": 4.0}, "tags": ["seed"]}  # fmt: skip
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({**row, "id": f"{i:016x}"}) + "\n")


def camelid_reader(path: Path) -> int:
    return sum(1 for name, number, line in iter_lines([str(path)])
               if parse_object(name, number, line))  # fmt: skip


def jsonlines_reader(path: Path) -> int:
    decode = msgspec.json.Decoder().decode
    with jsonlines.open(path, loads=decode) as reader:
        return sum(1 for _ in reader)


def camelid_records(path: Path) -> int:
    return sum(1 for _ in iter_records(path))


def iter_records(path: Path):
    for name, number, line in iter_lines([str(path)]):
        yield to_record(name, number, parse_object(name, number, line))


def jsonlines_records(path: Path) -> int:
    decode = msgspec.json.Decoder().decode
    with jsonlines.open(path, loads=decode) as reader:
        return sum(1 for number, row in enumerate(reader, 1) if to_record(str(path), number, row))


def best(fn, path: Path) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        make_file(path, n)
        assert camelid_reader(path) == jsonlines_reader(path) == n
        report: dict[str, object] = {"records": n}
        for phase, ours_fn, theirs_fn in (
            ("parse", camelid_reader, jsonlines_reader),
            ("records", camelid_records, jsonlines_records),
        ):
            ours, theirs = best(ours_fn, path), best(theirs_fn, path)
            report[phase] = {"camelid_per_s": round(n / ours), "jsonlines_per_s": round(n / theirs),
                             "camelid_over_jsonlines": round(theirs / ours, 2)}  # fmt: skip
            print(
                f"{phase:<8} {n:,} records: camelid {n / ours:,.0f}/s, jsonlines "
                f"{n / theirs:,.0f}/s: camelid/jsonlines {theirs / ours:.2f}x",
                flush=True,
            )
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "jsonl_read.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
