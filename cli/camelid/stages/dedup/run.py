"""The two passes of `dedup` over the input files, on the runtime's raw path, and its report.

Like `filter` (see stages/filter/run.py), records are read as plain dicts rather than validated
Records, and a kept record is written back as the line it was read from: at a million records
pydantic would cost more than the whole deduplication. Standard input is spooled to a temporary
file first, since the second pass reads everything again.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import orjson

from camelid.errors import BadInputError
from camelid.io import STDIO, display_name, dumps, iter_lines, loads, parse_object
from camelid.records import Reject, reason_group
from camelid.runtime import Run
from camelid.stages.dedup.deduplicator import Deduplicator

_BATCH = 256  # lines per write


def spool(stack: ExitStack, paths: list[str]) -> list[tuple[str, str]]:
    """(path to read, name to show) of each input; stdin copied once to a temporary file."""
    out = []
    for path in paths:
        if path != STDIO:
            out.append((path, path))
            continue
        spooled = stack.enter_context(tempfile.NamedTemporaryFile(prefix="camelid-dedup-"))  # noqa: SIM115
        shutil.copyfileobj(sys.stdin.buffer, spooled, 1 << 20)
        spooled.flush()
        out.append((spooled.name, display_name(STDIO)))
    return out


def lines(inputs: list[tuple[str, str]]) -> Iterator[tuple[str, int, bytes]]:
    for path, name in inputs:
        for _, number, line in iter_lines([path]):
            yield name, number, line


Scan = Callable[[Run, Deduplicator, list[tuple[str, str]]], set[tuple[str, int]]]


def run_dedup(
    run: Run, dedup: Deduplicator, paths: list[str], mark: bool, scan: Scan | None = None
) -> dict[str, Any]:
    """Read, cluster, write; returns the report (see `report`). Pass 1 is `scan`: here by
    default, or on a Ray cluster (ray_signatures.py); pass 2 is always here."""
    started = time.monotonic()
    with ExitStack() as stack:
        inputs = spool(stack, paths)
        bad = (scan or scan_here)(run, dedup, inputs)
        dedup.finish()
        kept = write(run, dedup, inputs, bad, mark)
    run.read = dedup.n + len(bad)
    return report(dedup, kept, len(bad), mark, time.monotonic() - started)


def scan_here(run: Run, dedup: Deduplicator, inputs: list[tuple[str, str]]) -> set[tuple[str, int]]:
    """Pass 1 in this process; returns the bad lines skipped (file name, line number)."""
    bad: set[tuple[str, int]] = set()
    for name, number, line in lines(inputs):
        try:
            record = orjson.loads(line)
            if type(record) is not dict:
                raise ValueError
            dedup.scan(record, name, number)
        except ValueError as exc:  # bad JSON, not an object, a field of the wrong type
            bad_line(run, bad, exc, name, number, line)
    return bad


def bad_line(
    run: Run, bad: set[tuple[str, int]], exc: ValueError, name: str, number: int, line: bytes
) -> None:
    """Stop on a bad line, or with --skip-bad-lines note it and reject it."""
    problem = _problem(exc, name, number, line)
    if not run.options.skip_bad_lines:
        raise BadInputError(name, number, problem) from None
    bad.add((name, number))
    text = line.decode("utf-8", errors="backslashreplace")
    reject = Reject("read", problem, where=f"{name}:{number}", line=text)
    run.reject_raw(dumps(reject.to_dict()), "bad line")


def write(
    run: Run,
    dedup: Deduplicator,
    inputs: list[tuple[str, str]],
    bad: set[tuple[str, int]],
    mark: bool,
) -> int:
    """Pass 2: each record's outcome, in input order; returns how many were written."""
    kept = 0
    batch: list[bytes] = []
    i = -1
    for name, number, line in lines(inputs):
        if (name, number) in bad:
            continue
        i += 1
        decision = dedup.outcome(i, mark)
        if mark:
            record = loads(line)  # exact: big integers kept
            record["dedup"] = decision.mark
            batch.append(dumps(record))
        elif decision.kind == "kept":
            batch.append(line + b"\n")
        else:
            blob = None
            if run.has_rejects_file:
                head = b'{"stage":"dedup","reason":' + orjson.dumps(decision.reason)
                where = b',"where":' + orjson.dumps(f"{name}:{number}") + b',"record":'
                blob = head + where + line + b"}\n"
            run.reject_raw(blob, reason_group(decision.reason))
        kept += decision.kind == "kept" or mark
        if len(batch) >= _BATCH:
            run.write_raw(b"".join(batch), len(batch))
            batch.clear()
    run.write_raw(b"".join(batch), len(batch))
    return kept


def _problem(exc: ValueError, name: str, number: int, line: bytes) -> str:
    if str(exc).startswith("field "):  # a field of the wrong type, an invalid record
        return str(exc)
    try:
        parse_object(name, number, line)  # the exact wording every command uses
    except BadInputError as err:
        return err.problem
    return str(exc) or "invalid record"


def report(dedup: Deduplicator, kept: int, bad: int, mark: bool, seconds: float) -> dict[str, Any]:
    """{read, kept, dropped, clusters, duplicates, contaminated, dropped_by, ...}."""
    assert dedup.clusters is not None
    counts = dedup.counts()
    out: dict[str, Any] = {
        "read": dedup.n,
        "kept": kept,
        "dropped": dedup.n - kept,
        "method": dedup.method.name,
        "clusters": dedup.clusters.groups(),
        "duplicates": dedup.clusters.duplicates(),
        "contaminated": len(dedup.contaminated),
        "dropped_by": {} if mark else {k: v for k, v in sorted(counts.items()) if v},
        "contaminated_by": {
            k.removeprefix("against "): v
            for k, v in sorted(counts.items())
            if v and k.startswith("against ")
        },
        "no_text": dedup.no_text,
        "bad_lines": bad,
        "seconds": round(seconds, 3),
    }
    if mark:
        out["marked"] = True
    return out


def summary(report: dict[str, Any], has_rejects: bool) -> str:
    """The lines `dedup` prints on stderr."""
    hint = "" if has_rejects or not report["dropped"] else " (see --rejects FILE)"
    lines = [
        f"dedup: read {report['read']}, kept {report['kept']}, dropped {report['dropped']}"
        f"{hint} in {report['seconds']:.1f}s",
        f"  {report['duplicates']} duplicates in {report['clusters']} clusters "
        f"({report['method']})",
    ]
    if report["contaminated"]:
        tests = ", ".join(f"{v} by {k}" for k, v in report["contaminated_by"].items())
        lines.append(f"  {report['contaminated']} found in the benchmarks: {tests}")
    if report.get("marked"):
        lines.append("  nothing dropped: --mark wrote every record with its cluster")
    if report["no_text"]:
        lines.append(f"  {report['no_text']} without text in the compared fields, kept")
    if report["bad_lines"]:
        lines.append(f"  {report['bad_lines']} bad lines skipped")
    return "\n".join(lines)
