"""The one runtime under every command: reading, batches written as they finish, --rejects,
progress and the summary on stderr, --stats, and resume.

A command opens a Run, reads its input through it, hands it each batch of outcomes (`commit`),
and closes it. On success the output is finished (a temp file renamed into place, or a file
written in place); on any error nothing half-written is left under the names the user gave,
except that a resumable run (the generation commands) keeps the batches it finished when it is
stopped (Ctrl-C, SIGTERM) or its engine fails, and says how to resume.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from camelid.errors import BadInputError, Interrupted, TemporaryFailure, UsageError
from camelid.io import (
    STDIO,
    AtomicWriter,
    read_records,
    write_file_atomic,
)
from camelid.records import LineageEntry, Outcome, Record, Reject, reason_group
from camelid.runtime.progress import Progress, stderr
from camelid.runtime.resume import RESUME_KEYS, Resume
from camelid.runtime.stage import Stage, batched


@dataclass
class RunOptions:
    """The options every record command shares (see commands/common.py)."""

    output: str | None = None
    rejects: str | None = None
    stats: str | None = None
    skip_bad_lines: bool = False
    quiet: bool = False
    resume: bool = False
    force: bool = False


class Run:
    def __init__(self, command: str, options: RunOptions, resumable: bool = False) -> None:
        self.command, self.options, self.resumable = command, options, resumable
        self.read = self.written = self.rejected = self.skipped = 0
        self.reasons: Counter[str] = Counter()
        self.stats: dict[str, Any] = {}  # a command's own figures, added to --stats
        self.describe: Callable[[], str] | None = None  # a command's own summary lines
        self._resume: Resume | None = None  # the journal of a resumable run's output file
        self._started = time.monotonic()
        out = options.output
        if options.resume and out in (None, STDIO):
            raise UsageError("--resume needs -o FILE: the records already written are read back")
        if options.stats and not (folder := Path(options.stats).parent).is_dir():
            raise UsageError(f"{options.stats}: its folder {folder} does not exist")
        path = Path(out).resolve() if out not in (None, STDIO) else None
        if resumable and path is not None and (path.is_file() or not path.exists()):
            self._resume = Resume(command, str(out), path, options.resume, options.force)
        append = options.resume and self._resume is not None
        self._out = AtomicWriter(out, append=append, direct=resumable)
        try:  # rejects of a resumable run are kept batch by batch too
            self._rejects = (
                AtomicWriter(options.rejects, append=append, direct=resumable)
                if options.rejects
                else None
            )
        except BaseException:
            self._out.abort()  # leave no temp file behind for the output either
            raise
        self.progress = Progress(command, enabled=not options.quiet)

    # -- reading ---------------------------------------------------------------------------

    def records(self, paths: Iterable[str]) -> Iterator[Record]:
        """Records from the input files in order; a bad line stops the run unless skipping."""
        on_bad = self._bad_line if self.options.skip_bad_lines else None
        for record in read_records(paths, on_bad):
            self.read += 1
            self.progress.update(read=self.read)
            yield record

    def read_all(self, paths: Iterable[str]) -> list[Record]:
        """The whole input first: a bad line late in a file then stops a generation run before
        any model time is spent and before anything is written."""
        return list(self.records(paths))

    def track(self, total: int | None) -> None:
        """How many items (records, or instructions wanted) the progress line counts to."""
        self.progress.track(total)

    def count_read(self, n: int = 1) -> None:
        """For commands that read something other than JSONL records (seed)."""
        self.read += n
        self.progress.update(read=self.read)

    def _bad_line(self, exc: BadInputError, line: str) -> None:
        self.reject(Reject("read", exc.problem, where=f"{exc.source}:{exc.line}", line=line))

    # -- resume ----------------------------------------------------------------------------

    def check_settings(
        self, entries: Iterable[LineageEntry], keys: Sequence[str] = RESUME_KEYS
    ) -> None:
        """Refuse to mix the output of different settings in one file, unless --force. Call it
        with what is known before loading a model (BEFORE_LOADING), and again after."""
        if self._resume is not None:
            self._resume.check(entries, keys)

    @property
    def existing(self) -> list[Record]:
        """The records a resumed output already holds."""
        return self._resume.existing if self._resume is not None else []

    @property
    def done(self) -> set[str]:
        """Ids of the records a resumed run has finished (written or rejected)."""
        return self._resume.done() if self._resume is not None else set()

    def states(self) -> list[dict[str, Any]]:
        """What the stages kept between batches, batch by batch, when resuming."""
        return self._resume.states() if self._resume is not None else []

    def pending(self, records: Iterable[Record]) -> Iterator[Record]:
        done = self.done
        for record in records:
            if record.id in done:
                self.skipped += 1
                continue
            yield record

    def _prepare(self) -> None:
        if self._resume is not None:
            self._resume.prepare(self._out, self._rejects)

    # -- writing ---------------------------------------------------------------------------

    def commit(
        self,
        outcomes: Sequence[Outcome],
        done: Sequence[str] = (),
        state: dict[str, Any] | None = None,
        advance: int | None = None,
    ) -> None:
        """One finished batch: its records in one write (a kill lands before or after it), its
        rejects, then the journal line that makes it count as done for --resume."""
        self._prepare()
        records = [o for o in outcomes if isinstance(o, Record)]
        self._out.write_many(records)
        self.written += len(records)
        for item in outcomes:
            if isinstance(item, Reject):
                self.reject(item)
        if self._resume is not None:
            self._resume.record(done, self._out, self._rejects, state)
        else:
            self.flush()
        self.progress.update(advance=len(done) if advance is None else advance,
                             written=self.written, rejected=self.rejected)  # fmt: skip

    def write(self, items: Iterable[Outcome | dict[str, Any]]) -> None:
        """A stream (seed, pairs, export): written in chunks as it comes."""
        chunk: list[Any] = []
        for item in items:
            if isinstance(item, Reject):
                self.reject(item)
                continue
            chunk.append(item)
            if len(chunk) == 1024:
                self._write_chunk(chunk)
                chunk = []
        self._write_chunk(chunk)

    def stream(self, stage: Stage, records: Iterable[Record], size: int = 1024) -> None:
        """A stage over a stream of records (pairs), written batch by batch as it goes."""
        for batch in batched(records, size):
            self.write(stage(batch))

    def _write_chunk(self, chunk: list[Any]) -> None:
        self._out.write_many(chunk)
        self.written += len(chunk)
        self.progress.update(written=self.written, rejected=self.rejected)

    def write_raw(self, blob: bytes, count: int) -> None:
        """Lines copied through as they were read (filter, dedup): `count` records."""
        self._out.write_bytes(blob, count)
        self.written += count

    def reject_raw(self, blob: bytes | None, reason: str) -> None:
        """A reject line made by a fast path (None: no --rejects file to write it to);
        `reason` is what --stats counts it under."""
        self.rejected += 1
        self.reasons[reason] += 1
        if self._rejects is not None and blob is not None:
            self._rejects.write_bytes(blob, 1)

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        self.reasons[reason_group(reject.reason)] += 1
        if self._rejects is not None:
            self._rejects.write(reject.to_dict())

    def flush(self) -> None:
        self._out.flush()
        if self._rejects is not None:
            self._rejects.flush()

    @property
    def has_rejects_file(self) -> bool:
        return self._rejects is not None

    # -- reporting ---------------------------------------------------------------------------

    def note(self, message: str) -> None:
        """A line for humans on stderr (silenced by --quiet)."""
        if not self.options.quiet:
            self.progress.print(message)

    def summary(self) -> None:
        if self.describe is not None:
            self.note(self.describe())
            return
        seconds = time.monotonic() - self._started
        hint = "" if self._rejects or not self.rejected else " (see --rejects FILE)"
        self.note(
            f"{self.command}: read {self.read}, wrote {self.written}, "
            f"rejected {self.rejected}{hint} in {seconds:.1f}s"
        )

    def report(self) -> dict[str, Any]:
        """What --stats writes: the counts, rejects per reason, and the command's own figures."""
        base = {
            "command": self.command,
            "read": self.read,
            "written": self.written,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "seconds": round(time.monotonic() - self._started, 3),
        }
        return base | self.stats

    def _write_stats(self, stopped: bool) -> None:
        if self.options.stats:
            report = self.report() | ({"stopped": True} if stopped else {})
            data = orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"
            write_file_atomic(Path(self.options.stats), data)

    # -- the run as a context ----------------------------------------------------------------

    def __enter__(self) -> Run:
        self.progress.start()
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.progress.stop()
        ended = isinstance(exc_type, type) and issubclass(exc_type, (Interrupted, TemporaryFailure))
        keep = exc_type is None or (ended and self.resumable)
        if exc_type is None:
            self._prepare()  # a resumed run with nothing left still trims a torn tail
        for writer in (self._out, self._rejects):
            if writer is None:
                continue
            if keep:
                writer.commit(create=exc_type is None)
            else:
                writer.abort()
        if exc_type is None:
            self.summary()
            self._write_stats(stopped=False)
        elif keep:
            self._write_stats(stopped=True)
            interrupted = issubclass(exc_type, Interrupted)  # type: ignore[arg-type]
            if self.options.output not in (None, STDIO) and (interrupted or self.written):
                stderr.print(  # even with --quiet: the user needs to know how to go on
                    f"{self.command}: stopped after writing {self.written} records to "
                    f"{self.options.output}; run the same command with --resume to continue",
                    markup=False,
                )
