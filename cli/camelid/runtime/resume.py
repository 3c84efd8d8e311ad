"""What a resumable run knows of the file it writes: the journal beside it (journal.py), and,
when it resumes, where to go on from.

Opening reads the journal and the output without changing either: the settings can still be
refused. The first write (`prepare`) then cuts the output (and --rejects) back to the last
batch the journal holds, or starts a new journal; after each batch, `record` appends its line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from camelid.errors import UsageError
from camelid.io import AtomicWriter, parse_object, to_record
from camelid.records import LineageEntry, Record
from camelid.runtime.journal import Entry, Journal, journal_path

# What must match between the run that wrote a file and the run resuming it.
RESUME_KEYS = ("pack", "pack_version", "template_hash", "model", "sampling", "seed")
BEFORE_LOADING = tuple(k for k in RESUME_KEYS if k != "model")


class Resume:
    def __init__(self, command: str, name: str, path: Path, resume: bool, force: bool) -> None:
        self.name, self.path, self.resume, self.force = name, path, resume, force
        self.settings: dict[str, dict[str, Any]] = {}
        self.existing: list[Record] = []  # what a resumed output already holds
        self.at: Entry | None = None  # the batch a resumed run continues after
        self._prepared = False
        found = Journal.read(path) if resume else None
        if found is None:
            if resume and path.exists() and path.stat().st_size:
                raise UsageError(
                    f"{name}: cannot resume: no resume journal ({journal_path(path).name}) "
                    "beside it; run without --resume to start over"
                )
            self.journal, self.resume = Journal(journal_path(path), command, {}), False
            return
        if found.command != command:
            raise UsageError(
                f"{name}: was written by `camelid {found.command}`, not `camelid {command}`; "
                "use another -o"
            )
        limit = found.entries[-1].output if found.entries else 0
        held = held_records(path, name, limit)
        ends = {end for end, _ in held} | {0}
        keep = len(found.entries)
        while keep and found.entries[keep - 1].output not in ends:
            keep -= 1  # the output was cut shorter than the journal says: redo those batches
        found.entries = found.entries[:keep]
        self.journal, self.at = found, found.entries[-1] if keep else None
        offset = self.at.output if self.at else 0
        self.existing = [record for end, record in held if end <= offset]

    def check(self, entries: Iterable[LineageEntry], keys: Sequence[str]) -> None:
        """Refuse to mix the output of different settings in one file, unless forced."""
        for entry in entries:
            now = entry.model_dump()
            self.settings[entry.stage] = now
            before = self.journal.settings.get(entry.stage) if self.resume else None
            if before is None or self.force:
                continue
            changed = [k for k in keys if before.get(k) != now.get(k)]
            if changed:
                diffs = ", ".join(f"{k} {before.get(k)!r} -> {now.get(k)!r}" for k in changed)
                raise UsageError(
                    f"{self.name}: was written with other settings ({diffs}); resuming would "
                    "mix them in one file. Use the same settings, another -o, or --force."
                )

    def done(self) -> set[str]:
        return self.journal.done() if self.resume else set()

    def states(self) -> list[dict[str, Any]]:
        return self.journal.states() if self.resume else []

    def prepare(self, out: AtomicWriter, rejects: AtomicWriter | None) -> None:
        """Before the first write: a resumed run cuts what the journal does not hold (a batch a
        crash left half-written); a new run starts its journal and empties its files."""
        if self._prepared:
            return
        self._prepared = True
        journal = self.journal
        if self.resume:
            if self.force:  # from now on the file holds the new settings' work too
                journal.settings |= self.settings
            journal.keep(len(journal.entries), rewrite=True)
            _truncate(self.path, self.at.output if self.at else 0)
            if self.at and self.at.rejects and _file(rejects) == self.at.rejects[0]:
                _truncate(Path(self.at.rejects[0]), self.at.rejects[1])
            return
        journal.settings = dict(self.settings)
        journal.start()
        out.open()
        if rejects is not None:
            rejects.open()
        path = _file(rejects)
        journal.append(Entry([], 0, (path, 0) if path else None))

    def record(self, done: Sequence[str], out: AtomicWriter, rejects: AtomicWriter | None,
               state: dict[str, Any] | None) -> None:  # fmt: skip
        """A finished batch, once its records and rejects are on the disk."""
        size = out.sync() or 0
        path = _file(rejects)
        held = (path, rejects.sync() or 0) if rejects is not None and path else None
        self.journal.append(Entry(list(done), size, held, state))


def _file(writer: AtomicWriter | None) -> str | None:
    """The regular file a writer writes (not a device, a pipe or stdout)."""
    path = writer.path if writer is not None else None
    return str(path) if path is not None and path.is_file() else None


def _truncate(path: Path, size: int) -> None:
    if path.is_file() and path.stat().st_size > size:
        os.truncate(path, size)


def held_records(path: Path, name: str, limit: int) -> list[tuple[int, Record]]:
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
