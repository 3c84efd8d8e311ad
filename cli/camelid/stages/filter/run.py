"""`filter`'s run: lines streamed through the checks, kept lines copied through as the bytes
they were read as (CRLF included), on the runtime's raw path.

Not `Run.records`: that validates every record with pydantic (several times the cost of the
parse) and re-encodes it, and a generator step per line costs a third of the parse. Here the
file's own line iterator feeds orjson (which ignores the trailing newline), the record is
checked as a dict and the line copied through: what lets filter outrun jq
(tests/bench/filter_vs_jq.py).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import orjson

from camelid.errors import BadInputError
from camelid.fields import BadField
from camelid.io import display_name, dumps, loads, open_input, parse_object, strip_bom
from camelid.records import Reject
from camelid.runtime import Run
from camelid.stages.dedup.run import lines, spool
from camelid.stages.filter.checks import Filter
from camelid.stages.filter.top import Top
from camelid.stages.pairs import fmt

BATCH = 256  # kept lines per write: one write per line cost a third more system time


def run_filter(run: Run, filt: Filter, paths: list[str], top: Top | None = None) -> None:
    if top is not None:
        with ExitStack() as stack:
            run_top(run, filt, spool(stack, paths), top)
        return
    apply, copy = filt.apply, not filt.transforms
    # Re-encoded records need exact big integers (io.loads); copied-through lines do not.
    parse = orjson.loads if copy else loads
    has_rejects, batch, kept = run.has_rejects_file, list[bytes](), 0
    for path in paths:
        name, last = display_name(path), b"\n"
        with open_input(path) as stream:
            for number, line in enumerate(strip_bom(stream), start=1):
                try:
                    record = parse(line)
                    if type(record) is not dict:
                        raise ValueError
                    drop = apply(record)
                except ValueError as exc:  # bad JSON, not an object, a bad field type
                    if line.strip():  # blank lines are skipped, as everywhere
                        bad_line(run, exc, name, number, line)
                    continue
                if drop is None:
                    batch.append(line if copy else dumps(record))
                    kept, last = kept + 1, line
                    if len(batch) == BATCH:
                        run.write_raw(b"".join(batch), len(batch))
                        batch.clear()
                    continue
                blob = None
                if has_rejects:  # the record as read, spliced in as bytes: exact, cheap
                    head = b'{"stage":"filter","reason":' + orjson.dumps(drop.reason)
                    where = b',"where":' + orjson.dumps(f"{name}:{number}") + b',"record":'
                    blob = head + where + line.rstrip(b"\r\n") + b"}\n"
                run.reject_raw(blob, drop.key or drop.reason)
        count = len(batch)
        if copy and not last.endswith(b"\n"):  # the file's last line had no newline
            batch.append(b"\n")
        run.write_raw(b"".join(batch), count)
        batch.clear()
        run.flush()
    run.read = run.written + run.rejected
    run.stats |= {"kept": run.written, "dropped": run.rejected}
    run.describe = lambda: summary(run)


def run_top(run: Run, filt: Filter, inputs: list[tuple[str, str]], top: Top) -> None:
    """Two passes: the predicates and each survivor's score, then the best written as read."""
    scored: list[tuple[float | None, int]] = []
    has_rejects = run.has_rejects_file
    for index, (name, number, line) in enumerate(lines(inputs)):
        try:
            record = loads(line)
            if type(record) is not dict:
                raise ValueError
            drop = filt.apply(record)
            score = top.score(record) if drop is None else None
        except ValueError as exc:
            bad_line(run, exc, name, number, line)
            continue
        if drop is None:
            scored.append((score, index))
        else:
            run.reject_raw(_reject(drop.reason, name, number, line) if has_rejects else None,
                           drop.key or drop.reason)  # fmt: skip
    kept, floor = top.keep(scored)
    survivors = {i for _, i in scored}
    reason = f"not in the {top.describe()}" + (f" (< {fmt(floor)})" if floor is not None else "")
    batch: list[bytes] = []
    for index, (name, number, line) in enumerate(lines(inputs)):
        if index in kept:
            record = loads(line) if filt.transforms else None
            if record is not None:
                filt.apply(record)  # --best-of rewrites the record again, the same way
            batch.append(dumps(record) if record is not None else line + b"\n")
        elif index in survivors:
            run.reject_raw(_reject(reason, name, number, line) if has_rejects else None,
                           f"not in the {top.describe()}")  # fmt: skip
    run.write_raw(b"".join(batch), len(batch))
    run.read = run.written + run.rejected
    run.stats |= {"kept": run.written, "dropped": run.rejected}
    run.describe = lambda: summary(run)


def _reject(reason: str, name: str, number: int, line: bytes) -> bytes:
    head = b'{"stage":"filter","reason":' + orjson.dumps(reason)
    where = b',"where":' + orjson.dumps(f"{name}:{number}") + b',"record":'
    return head + where + line.rstrip(b"\r\n") + b"}\n"


def bad_line(run: Run, exc: ValueError, name: str, number: int, line: bytes) -> None:
    line = line.rstrip(b"\r\n")
    if isinstance(exc, BadField):
        problem = str(exc)
    else:
        try:
            parse_object(name, number, line)  # for the exact message every command gives
            problem = "invalid JSON"
        except BadInputError as err:
            problem = err.problem
    if not run.options.skip_bad_lines:
        raise BadInputError(name, number, problem) from None
    text = line.decode("utf-8", errors="backslashreplace")
    reject = Reject("read", problem, where=f"{name}:{number}", line=text)
    run.reject_raw(dumps(reject.to_dict()), "bad line")


def summary(run: Run) -> str:
    report: dict[str, Any] = run.report()
    hint = "" if run.has_rejects_file or not run.rejected else " (see --rejects FILE)"
    lines = [
        f"filter: read {run.read}, kept {run.written}, dropped {run.rejected}{hint} in "
        f"{report['seconds']:.1f}s"
    ]
    width = len(str(max(report["reasons"].values(), default=0)))
    lines += [f"  {count:>{width}}  {reason}" for reason, count in report["reasons"].items()]
    return "\n".join(lines)
