"""One command run: read records, hand them to a stage, write what comes back, report on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from camelid.errors import BadInputError, Interrupted
from camelid.io import AtomicWriter, iter_lines, parse_object, to_record
from camelid.records import Record


@dataclass
class Reject:
    """A record (or raw line) that a stage refused, and why."""

    stage: str
    reason: str
    record: Record | dict[str, Any] | None = None
    where: str | None = None
    line: str | None = None

    def to_dict(self) -> dict[str, Any]:
        record = self.record.to_dict() if isinstance(self.record, Record) else self.record
        out = {"stage": self.stage, "reason": self.reason, "where": self.where}
        out |= {"record": record} if record is not None else {"line": self.line}
        return {k: v for k, v in out.items() if v is not None}


stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Run:
    """Context for one command: owns the output and rejects files, counts, and reports.

    On any error both files are abandoned (temp files removed), so a failed run leaves
    nothing half-written under the names the user gave.
    """

    def __init__(
        self,
        command: str,
        output: str | None = None,
        rejects: str | None = None,
        skip_bad_lines: bool = False,
        quiet: bool = False,
        append: bool = False,
        resumable: bool = False,
    ):
        self.command = command
        self.output = output
        self.resumable = resumable
        self.skip_bad_lines = skip_bad_lines
        self.quiet = quiet
        self.read = self.written = self.rejected = 0
        self._started = time.monotonic()
        self._out = AtomicWriter(output, append=append, direct=resumable)
        try:
            # Rejects of a generation run are kept batch by batch too: a resumed run skips them.
            self._rejects = (
                AtomicWriter(rejects, append=append, direct=resumable) if rejects else None
            )
        except BaseException:
            self._out.abort()  # leave no temp file behind for the output either
            raise
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> Run:
        if not self.quiet and sys.stderr.isatty():
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(f"[bold]{self.command}[/]"),
                TextColumn("read {task.fields[read]}  wrote {task.completed}"),
                TimeElapsedColumn(),
                console=stderr,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.command, total=None, read=0)
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        writers = [w for w in (self._out, self._rejects) if w is not None]
        # A stopped generation run keeps what it finished: that is what --resume continues.
        stopped = isinstance(exc_type, type) and issubclass(exc_type, Interrupted)
        keep = exc_type is None or (stopped and self.resumable)
        for writer in writers:
            if keep:
                writer.commit(create=exc_type is None)
            else:
                writer.abort()
        if exc_type is None:
            self.summary()
        elif stopped and self.resumable and self.output not in (None, "-"):
            stderr.print(  # even with --quiet: the user needs to know how to go on
                f"{self.command}: stopped after writing {self.written} records to {self.output}; "
                "run the same command with --resume to continue",
                markup=False,
            )

    def records(self, paths: Iterable[str]) -> Iterator[Record]:
        """Records from the input files in order; a bad line stops the run unless skipping.

        A generation run reads its whole input first: a bad line late in a file then stops the
        run before any model time is spent on it and before anything is written.
        """
        if self.resumable:
            return iter(list(self._read(paths)))
        return self._read(paths)

    def _read(self, paths: Iterable[str]) -> Iterator[Record]:
        for name, number, line in iter_lines(paths):
            try:
                record = to_record(name, number, parse_object(name, number, line))
            except BadInputError as exc:
                if not self.skip_bad_lines:
                    raise
                text = line.decode("utf-8", errors="backslashreplace")
                self.reject(Reject("read", exc.problem, where=f"{name}:{number}", line=text))
                continue
            self.read += 1
            self._tick()
            yield record

    def count_read(self, n: int = 1) -> None:
        """For commands that read something other than JSONL records (seed)."""
        self.read += n
        self._tick()

    def write(self, item: Record | Reject) -> None:
        if isinstance(item, Reject):
            self.reject(item)
            return
        self._out.write(item)
        self.written += 1
        self._tick()

    def write_all(self, items: Iterable[Record | Reject]) -> None:
        """A batch (a list): its records in one write, so a kill lands before or after it, then
        its rejects. Any other iterable streams through in chunks of the same kind."""
        if isinstance(items, list):
            self._write_batch(items)
            return
        chunk: list[Record | Reject] = []
        for item in items:
            chunk.append(item)
            if len(chunk) == 1024:
                self._write_batch(chunk)
                chunk = []
        self._write_batch(chunk)

    def _write_batch(self, batch: list[Record | Reject]) -> None:
        records = [item for item in batch if not isinstance(item, Reject)]
        self._out.write_many(records)  # type: ignore[arg-type]
        self.written += len(records)
        for item in batch:
            if isinstance(item, Reject):
                self.reject(item)
        self._tick()

    def flush(self) -> None:
        self._out.flush()
        if self._rejects is not None:
            self._rejects.flush()

    def reject(self, reject: Reject) -> None:
        self.rejected += 1
        if self._rejects is not None:
            self._rejects.write(reject.to_dict())

    def note(self, message: str) -> None:
        """A line for humans on stderr (silenced by --quiet)."""
        if not self.quiet:
            stderr.print(message, markup=False)

    def summary(self) -> None:
        seconds = time.monotonic() - self._started
        hint = "" if self._rejects or not self.rejected else " (see --rejects FILE)"
        self.note(
            f"{self.command}: read {self.read}, wrote {self.written}, "
            f"rejected {self.rejected}{hint} in {seconds:.1f}s"
        )

    def _tick(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.written, read=self.read)
