"""Continue a stopped run from what its output file already holds.

A crash (kill -9, power loss) can leave a last line half-written: that line alone is cut off,
since the batch it belonged to will be made again. Damage anywhere else is not ours to guess
about, so it is an error naming the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from camelid.errors import UsageError
from camelid.io import iter_lines, parse_object, to_record
from camelid.records import LineageEntry, Record

# What must match between the run that wrote a file and the run resuming it.
RESUME_KEYS = ("pack", "pack_version", "template_hash", "model", "sampling", "seed")


def repair_torn_tail(path: Path) -> int:
    """Cut a last line that lacks its newline; returns the number of bytes removed."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Walk back to the previous newline in blocks (a torn line can be long).
        end = size
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            cut = f.read(end - start).rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return size - keep


def load_existing(output: str | None, resume: bool) -> list[Record]:
    """The records a resumed run starts from ([] when not resuming or the file is new)."""
    if not resume:
        return []
    if output in (None, "-"):
        raise UsageError("--resume needs -o FILE: the records already written are read back")
    path = Path(output)
    if not path.exists():
        return []
    repair_torn_tail(path)
    return [
        to_record(name, number, parse_object(name, number, line))
        for name, number, line in iter_lines([str(path)])
    ]


def check_settings(
    records: list[Record],
    stage: str,
    current: LineageEntry,
    output: str,
    force: bool,
    keys: tuple[str, ...] = RESUME_KEYS,
) -> None:
    """Refuse to mix the output of different settings in one file, unless forced.

    `keys` lets a command check what it knows before loading a model, the rest after.
    """
    if force:
        return
    now = current.model_dump()
    for record in records:
        entry = next((e for e in reversed(record.lineage or []) if e.stage == stage), None)
        if entry is None:
            continue
        before: dict[str, Any] = entry.model_dump()
        changed = [k for k in keys if before.get(k) != now.get(k)]
        if changed:
            diffs = ", ".join(f"{k} {before.get(k)!r} -> {now.get(k)!r}" for k in changed)
            raise UsageError(
                f"{output}: was written with other settings ({diffs}); resuming would mix "
                "them in one file. Use the same settings, another -o, or --force."
            )
        return  # one record is enough: a file is only ever appended with matching settings


def rejected_ids(rejects: str | None, resume: bool) -> set[str]:
    """Ids of the records a resumed run already rejected (they are not tried again)."""
    ids = set()
    for entry in rejected_entries(rejects, resume):
        record = entry.get("record")
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            ids.add(record["id"])
    return ids


def rejected_entries(rejects: str | None, resume: bool) -> list[dict[str, Any]]:
    """The entries of the --rejects file a resumed run continues ([] when there is none)."""
    if not resume or rejects in (None, "-") or not Path(rejects).is_file():
        return []
    path = Path(rejects)
    repair_torn_tail(path)
    entries = []
    for line in path.read_bytes().splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a reject file is a log for people; an odd line there costs a redo only
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


class Resumption:
    """What a resumed record-by-record run skips: every input id already written or rejected.

    The settings that shape the output (pack, its version and templates, seed) must match the
    file's, unless forced; they are checked here, before any model is loaded.
    """

    def __init__(
        self,
        stage: str,
        current: LineageEntry,
        output: str | None,
        rejects: str | None,
        resume: bool,
        force: bool,
    ) -> None:
        existing = load_existing(output, resume)
        keys = tuple(k for k in RESUME_KEYS if k != "model")
        check_settings(existing, stage, current, output or "-", force, keys)
        self.done = {r.id for r in existing} | rejected_ids(rejects, resume)
        self.skipped = 0
        self._check = (existing, stage, current, output or "-", force)

    def check_model(self, model: str | None) -> None:
        """The model is known once the engine is open (a server names the one it serves)."""
        existing, stage, current, output, force = self._check
        entry = current.model_copy(update={"model": model})
        check_settings(existing, stage, entry, output, force, ("model",))

    def pending(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            if record.id in self.done:
                self.skipped += 1
                continue
            yield record
