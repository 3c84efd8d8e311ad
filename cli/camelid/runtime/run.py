"""The one runtime under every command: reading, batches written as they finish, --rejects,
progress and the summary on stderr, --stats, and resume.

A command opens a Run, reads its input through it, hands it each batch of outcomes (`commit`),
and closes it. On success the output is finished (a temp file renamed into place, or a file
written in place); on any error nothing half-written is left under the names the user gave,
except that a resumable run (the generation commands) keeps the batches it finished when it is
stopped (Ctrl-C, SIGTERM) or its engine fails, and says how to resume.
"""

from __future__ import annotations

import os
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
    parse_object,
    read_records,
    to_record,
    write_file_atomic,
)
from camelid.records import LineageEntry, Outcome, Record, Reject, reason_group
from camelid.runtime.journal import Entry, Journal, journal_path
from camelid.runtime.progress import Progress, stderr
from camelid.runtime.stage import Stage, batched

# What must match between the run that wrote a file and the run resuming it.
RESUME_KEYS = ("pack", "pack_version", "template_hash", "model", "sampling", "seed")
BEFORE_LOADING = tuple(k for k in RESUME_KEYS if k != "model")


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
        self.existing: list[Record] = []  # what a resumed output already holds
        self._settings: dict[str, dict[str, Any]] = {}
        self._journal: Journal | None = None
        self._resume_at: Entry | None = None  # the batch a resumed run continues after
        self._prepared = False
        self._started = time.monotonic()
        out = options.output
        if options.resume and out in (None, STDIO):
            raise UsageError("--resume needs -o FILE: the records already written are read back")
        if options.stats and not (folder := Path(options.stats).parent).is_dir():
            raise UsageError(f"{options.stats}: its folder {folder} does not exist")
        path = Path(out).resolve() if out not in (None, STDIO) else None
        self._path = path
        journaled = resumable and path is not None and (path.is_file() or not path.exists())
        if journaled and path is not None:
            self._open_journal(path)
        append = options.resume and journaled
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

    def check_settings(self, entries: Iterable[LineageEntry], keys: Sequence[str] = RESUME_KEYS):
        """Refuse to mix the output of different settings in one file, unless --force. Call it
        with what is known before loading a model (BEFORE_LOADING), and again after."""
        for entry in entries:
            now = entry.model_dump()
            self._settings[entry.stage] = now
            before = self._journal.settings.get(entry.stage) if self._resumed else None
            if before is None or self.options.force:
                continue
            changed = [k for k in keys if before.get(k) != now.get(k)]
            if changed:
                diffs = ", ".join(f"{k} {before.get(k)!r} -> {now.get(k)!r}" for k in changed)
                raise UsageError(
                    f"{self.options.output}: was written with other settings ({diffs}); "
                    "resuming would mix them in one file. Use the same settings, another -o, "
                    "or --force."
                )

    @property
    def done(self) -> set[str]:
        """Ids of the records a resumed run has finished (written or rejected)."""
        return self._journal.done() if self._resumed and self._journal else set()

    def states(self) -> list[dict[str, Any]]:
        """What the stages kept between batches, batch by batch, when resuming."""
        return self._journal.states() if self._resumed and self._journal else []

    def pending(self, records: Iterable[Record]) -> Iterator[Record]:
        done = self.done
        for record in records:
            if record.id in done:
                self.skipped += 1
                continue
            yield record

    @property
    def _resumed(self) -> bool:
        return self.options.resume and self._journal is not None

    def _open_journal(self, path: Path) -> None:
        found = Journal.read(path) if self.options.resume else None
        if found is None:
            if self.options.resume and path.exists() and path.stat().st_size:
                raise UsageError(
                    f"{self.options.output}: cannot resume: no resume journal "
                    f"({journal_path(path).name}) beside it; run without --resume to start over"
                )
            self._journal = Journal(journal_path(path), self.command, {})
            return
        if found.command != self.command:
            raise UsageError(
                f"{self.options.output}: was written by `camelid {found.command}`, not "
                f"`camelid {self.command}`; use another -o"
            )
        limit = found.entries[-1].output if found.entries else 0
        held = _held_records(path, str(self.options.output), limit)
        ends = {end for end, _ in held} | {0}
        keep = len(found.entries)
        while keep and found.entries[keep - 1].output not in ends:
            keep -= 1  # the output was cut shorter than the journal says: redo those batches
        found.entries = found.entries[:keep]
        self._journal, self._resume_at = found, found.entries[-1] if keep else None
        offset = self._resume_at.output if self._resume_at else 0
        self.existing = [record for end, record in held if end <= offset]

    def _prepare(self) -> None:
        """Before the first write: a resumed run cuts what the journal does not hold (a batch
        a crash left half-written); a new run starts its journal."""
        if self._prepared:
            return
        self._prepared = True
        journal = self._journal
        if journal is None:
            return
        if self._resumed:
            if self.options.force:  # from now on the file holds the new settings' work too
                journal.settings |= self._settings
            journal.keep(len(journal.entries), rewrite=True)
            at = self._resume_at
            if self._path is not None:
                _truncate(self._path, at.output if at else 0)
            if at and at.rejects and self._rejects_path() == at.rejects[0]:
                _truncate(Path(at.rejects[0]), at.rejects[1])
            return
        journal.settings = dict(self._settings)
        journal.start()
        self._out.open()  # a new run starts from an empty file
        if self._rejects is not None:
            self._rejects.open()
        rejects = self._rejects_path()
        journal.append(Entry([], 0, (rejects, 0) if rejects else None))

    def _rejects_path(self) -> str | None:
        path = self._rejects.path if self._rejects is not None else None
        return str(path) if path is not None and path.is_file() else None

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
        if self._journal is not None:
            size = self._out.sync()
            rejects = None
            if self._rejects is not None and (path := self._rejects_path()):
                rejects = (path, self._rejects.sync() or 0)
            self._journal.append(Entry(list(done), size or 0, rejects, state))
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


def _truncate(path: Path, size: int) -> None:
    if path.is_file() and path.stat().st_size > size:
        os.truncate(path, size)


def _held_records(path: Path, name: str, limit: int) -> list[tuple[int, Record]]:
    """(offset after the line, record) for each whole line of the output up to `limit` bytes.
    A last line without its newline is a write torn by a crash: left out (its batch is redone).
    A damaged line anywhere else is an error naming it: not ours to guess about."""
    if not path.exists():
        return []
    with open(path, "rb") as f:
        head = f.read(limit)
    out, end = [], 0
    for number, line in enumerate(head.splitlines(keepends=True), start=1):
        if not line.endswith(b"\n"):
            break
        end += len(line)
        if line.strip():
            out.append((end, to_record(name, number, parse_object(name, number, line.rstrip()))))
    return out
