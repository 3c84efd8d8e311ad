"""The resume journal: a small JSONL file beside `-o FILE` saying what a run has finished.

Its first line holds the settings that shape the output (per stage: pack, version, template
hash, model, sampling, seed); then one line per batch, written after the batch's records and
rejects are on disk: the input ids it finished, the output's size after it, the rejects file and
its size, and whatever state a stage keeps between batches (self-instruct's pool, red-team
topics). A resumed run cuts the output (and the rejects) back to the last batch the journal
holds, which also removes a batch half-written by a crash, skips the ids it lists, and hands
the states back to the command. Nothing is parsed from human-readable text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from camelid.errors import UsageError
from camelid.io import dumps, write_file_atomic

VERSION = 1


def journal_path(output: Path) -> Path:
    return output.parent / f".{output.name}.resume.jsonl"


@dataclass
class Entry:
    done: list[str]
    output: int  # the output's size in bytes after this batch
    rejects: tuple[str, int] | None = None  # (rejects file, its size after this batch)
    state: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"done": self.done, "output": self.output}
        if self.rejects is not None:
            out["rejects"] = list(self.rejects)
        if self.state is not None:
            out["state"] = self.state
        return out


@dataclass
class Journal:
    path: Path
    command: str
    settings: dict[str, dict[str, Any]]  # stage name -> its lineage entry
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def read(cls, output: Path) -> Journal | None:
        """The journal of this output, None when there is none. A torn last line (a crash
        while appending) is left out: its batch is simply done again."""
        path = journal_path(output)
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:
            return None
        try:
            head = orjson.loads(lines[0])
            entries = []
            for line in lines[1:]:
                try:
                    item = orjson.loads(line)
                except orjson.JSONDecodeError:
                    break  # torn by a crash: the batch is redone
                rejects = item.get("rejects")
                entries.append(
                    Entry(
                        item["done"],
                        item["output"],
                        tuple(rejects) if rejects else None,
                        item.get("state"),
                    )  # fmt: skip
                )
            return cls(path, head["command"], head["settings"], entries)
        except (IndexError, KeyError, TypeError, orjson.JSONDecodeError):
            raise UsageError(
                f"{path}: the resume journal of {output} is damaged; remove both to start over"
            ) from None

    def start(self) -> None:
        """Write the header alone (a new run): earlier batches no longer count."""
        head = {"camelid_journal": VERSION, "command": self.command, "settings": self.settings}
        write_file_atomic(self.path, dumps(head))
        self.entries = []

    def append(self, entry: Entry) -> None:
        with open(self.path, "ab") as f:
            f.write(dumps(entry.to_dict()))
            f.flush()
            os.fsync(f.fileno())
        self.entries.append(entry)

    def keep(self, count: int, rewrite: bool = False) -> None:
        """Forget every entry after the first `count` (their batches are redone)."""
        if count == len(self.entries) and not rewrite:
            return
        self.entries = self.entries[:count]
        head = {"camelid_journal": VERSION, "command": self.command, "settings": self.settings}
        lines = [dumps(head), *(dumps(e.to_dict()) for e in self.entries)]
        write_file_atomic(self.path, b"".join(lines))

    def done(self) -> set[str]:
        return {key for entry in self.entries for key in entry.done}

    def states(self) -> list[dict[str, Any]]:
        return [entry.state for entry in self.entries if entry.state is not None]
