"""`camelid seed`: read what users already have (seed tasks, instruction sets, chats, message
trees, red-team questions, documents) and turn it into Records.

The format is forced with `format`, or detected per input: folders and .txt/.md/.html files are
documents; otherwise the keys of the first JSON object decide (see detect). JSON files may be
JSON Lines or one JSON array; both keep the line number of every row for error messages.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from camelid.errors import BadInputError
from camelid.fields import json_type
from camelid.io import describe_validation, display_name, iter_lines, parse_object
from camelid.records import Record, Reject, make_record
from camelid.stages.seed import documents
from camelid.stages.seed.formats import ROW_READERS, BadRow, from_self_instruct, lineage
from camelid.stages.seed.json_array import array_items
from camelid.stages.seed.oasst import check_row, first_turn_pairs

BUILTIN = Path(__file__).parents[2] / "data" / "builtin_seeds.jsonl"
IDENTITY = Path(__file__).parents[2] / "data" / "identity.jsonl"


def orjson_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


DESCRIPTIONS = {
    "self-instruct": "self-instruct seed tasks",
    "alpaca": "Alpaca instructions",
    "sharegpt": "ShareGPT conversations",
    "messages": "chat messages",
    "oasst": "OpenAssistant message trees",
    "redteam": "red-teaming seed questions",
    "documents": "documents",
}
FORMATS = tuple(DESCRIPTIONS)
TEXT_HINT = "for text, Markdown or HTML documents use --format documents"
Item = Record | Reject


def detect(row: dict[str, Any]) -> str | None:
    """The format a JSON row's keys point to; the most specific key sets are tried first."""
    keys = set(row)
    if {"instruction", "instances"} <= keys:
        return "self-instruct"
    if "conversations" in keys:
        return "sharegpt"
    if "messages" in keys:
        return "messages"
    if {"message_id", "text"} <= keys:
        return "oasst"
    if "question" in keys and keys & {"topic", "question_type"}:
        return "redteam"
    if {"instruction", "output"} <= keys:
        return "alpaca"
    return None


def _silent(*_: object) -> None:
    pass


@dataclass
class SeedReader:
    format: str | None = None  # forced format, or None to detect per input
    skip_bad_lines: bool = False
    docs: documents.DocOptions = field(default_factory=documents.DocOptions)
    note: Callable[[str], None] = _silent  # human-readable remarks (detections, warnings)
    on_read: Callable[[], None] = _silent  # called once per row or document read

    def read(self, paths: Iterable[str]) -> Iterator[Item]:
        for path in paths:
            if self.format == "documents" or (
                self.format is None and documents.is_document_path(path)
            ):
                yield from self._documents(path)
            else:
                yield from self._json(path, self.format)

    def builtin(self) -> Iterator[Item]:
        """camelid's own seed set, in the Self-Instruct format."""
        yield from self._json(str(BUILTIN), "builtin")

    def identity(self, name: str, maker: str) -> Iterator[Item]:
        """Conversations about who the assistant is and who made it (Dromedary added 910 such
        to its data so that the model knows its name); ours, with the name and maker filled in."""
        for row in orjson_lines(IDENTITY):
            self.on_read()
            fill = {"name": name, "maker": maker}
            yield make_record(instruction=row["instruction"].format(**fill),
                              output=row["output"].format(**fill), source="identity",
                              lineage=lineage("identity"), origin_id=row["id"])  # fmt: skip

    def _documents(self, path: str) -> Iterator[Item]:
        files = documents.document_files(path)
        for i, name in enumerate(files):
            text, kind = documents.read_document(name, self.note)
            if self.format is None and i == 0:
                what = (
                    documents.KIND_NAMES[kind]
                    if len(files) == 1
                    else f"a folder of {len(files)} documents"
                )
                self.note(f"seed: {display_name(path)} looks like {what} (use --format to force)")
            self.on_read()
            yield from documents.segment_document(display_name(name), text, kind, self.docs)

    def _json(self, path: str, fmt: str | None) -> Iterator[Item]:
        lines = iter_lines([path])
        first = next(lines, None)
        if first is None:
            return
        is_array = first[2].lstrip().startswith(b"[")
        rows = (
            self._array_rows(first, lines) if is_array else self._line_rows(chain([first], lines))
        )
        oasst: list[tuple[str, dict[str, Any]]] = []
        for item in rows:
            if isinstance(item, Reject):
                yield item
                continue
            name, number, row = item
            self.on_read()
            if fmt is None:
                fmt = self._detect(name, number, row, is_array)
            try:
                if fmt == "oasst":
                    check_row(row)
                    oasst.append((f"{name}:{number}", row))
                    continue
                yield (
                    from_self_instruct(row, "builtin")
                    if fmt == "builtin"
                    else ROW_READERS[fmt](row)
                )
            except BadRow as exc:
                yield self._bad(BadInputError(name, number, str(exc)), record=row)
            except ValidationError as exc:
                yield self._bad(BadInputError(name, number, describe_validation(exc)), record=row)
        yield from first_turn_pairs(oasst)

    def _detect(self, name: str, number: int, row: dict[str, Any], is_array: bool) -> str:
        fmt = detect(row)
        if fmt is None:
            keys = ", ".join(sorted(row)) or "none"
            raise BadInputError(
                name, number,
                f"cannot tell the seed format from the keys ({keys}); "
                f"use --format ({', '.join(FORMATS)})",
            )  # fmt: skip
        what = ("a JSON array of " if is_array else "") + DESCRIPTIONS[fmt]
        self.note(f"seed: {name} looks like {what} (use --format to force)")
        return fmt

    def _line_rows(self, lines: Iterable[tuple[str, int, bytes]]) -> Iterator[Any]:
        for name, number, line in lines:
            try:
                yield name, number, parse_object(name, number, line)
            except BadInputError as exc:
                if not line.lstrip().startswith((b"{", b"[")):
                    exc = BadInputError(name, number, f"{exc.problem} ({TEXT_HINT})")
                yield self._bad(exc, line=line.decode("utf-8", errors="backslashreplace"))

    def _array_rows(self, first: tuple[str, int, bytes], rest: Iterable) -> Iterator[Any]:
        name = first[0]
        for number, value in array_items(name, chain([first], rest)):
            if isinstance(value, dict):
                yield name, number, value
            else:
                problem = f"expected a JSON object, got {json_type(value)}"
                yield self._bad(BadInputError(name, number, problem), line=json.dumps(value))

    def _bad(self, exc: BadInputError, record: Any = None, line: str | None = None) -> Reject:
        """A bad row stops the run, unless --skip-bad-lines: then it is rejected with its place."""
        if not self.skip_bad_lines:
            raise exc
        stage = "read" if record is None else "seed"
        return Reject(
            stage, exc.problem, record=record, where=f"{exc.source}:{exc.line}", line=line
        )


def select(items: Iterable[Item], limit: int | None, shuffle: bool, seed: int) -> Iterator[Item]:
    """Rejects pass straight through; records are shuffled (deterministically) and/or cut."""
    if shuffle:
        records = []
        for item in items:
            if isinstance(item, Reject):
                yield item
            else:
                records.append(item)
        random.Random(seed).shuffle(records)
        yield from records if limit is None else records[:limit]
        return
    if limit == 0:
        return
    count = 0
    for item in items:
        yield item
        count += isinstance(item, Record)
        if count == limit:  # stop reading as soon as we have enough
            return
