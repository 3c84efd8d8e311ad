"""Reading and writing JSON Lines: files or "-", line numbers in every error, atomic output.

Lines are read as bytes and parsed with msgspec (exact big integers) rather than through
`jsonlines`: every error names its line with the raw bytes at hand (a BOM, CRLF, invalid UTF-8,
UTF-16), filter and dedup copy kept lines through byte for byte, and the per-line cost matters
on large files (see the README's design notes).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, Any

import msgspec
import orjson
from pydantic import ValidationError

from camelid.errors import BadInputError, OutputClosed, UsageError
from camelid.fields import json_type
from camelid.records import Record

STDIO = "-"
_BOM = b"\xef\xbb\xbf"
_BUFFER = 1 << 20  # 1 MB reads instead of 8 KB ones: fewer system calls on big files
_decode = msgspec.json.Decoder().decode
# Deeper than any real record, and well inside the interpreter's recursion limit, which both
# msgspec (reading) and the stdlib encoder (writing integers over 64 bits) run into.
MAX_DEPTH = 200
_TOO_DEEP = f"arrays and objects nested more than {MAX_DEPTH} levels deep"


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIO else path


def iter_lines(paths: Iterable[str]) -> Iterator[tuple[str, int, bytes]]:
    """(file name, 1-based line number, line bytes without its newline) for every non-blank line."""
    for path in paths:
        name = display_name(path)
        try:
            stream: IO[bytes] = sys.stdin.buffer if path == STDIO else open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{path}: is a directory, expected a JSONL file") from None
        try:
            for number, line in enumerate(stream, start=1):
                if number == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                line = line.rstrip(b"\r\n")
                if line.strip():
                    yield name, number, line
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def read_records(
    paths: Iterable[str], on_bad: Callable[[BadInputError, str], None] | None = None
) -> Iterator[Record]:
    """Records from JSONL files in order, each knowing its "file:line". A bad line raises, or
    with `on_bad` is handed to it (with the line's text) and skipped."""
    for name, number, line in iter_lines(paths):
        try:
            yield to_record(name, number, parse_object(name, number, line))
        except BadInputError as exc:
            if on_bad is None:
                raise
            on_bad(exc, line.decode("utf-8", errors="backslashreplace"))


def open_input(path: str) -> IO[bytes]:
    """A file (or stdin) for the raw fast paths, read 1 MB at a time."""
    if path == STDIO:
        return open(sys.stdin.fileno(), "rb", buffering=_BUFFER, closefd=False)
    try:
        return open(path, "rb", buffering=_BUFFER)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def strip_bom(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's lines, a UTF-8 BOM at its start removed (as iter_lines does)."""
    first = stream.readline()
    return chain((first[len(_BOM) :] if first.startswith(_BOM) else first,), stream)


def loads(line: bytes) -> Any:
    """Parse one JSON value exactly: big integers kept (orjson would turn them into floats),
    NaN, invalid UTF-8, lone surrogates and nesting deeper than MAX_DEPTH refused. msgspec is
    as fast as orjson here."""
    try:
        value = _decode(line)
    except msgspec.DecodeError as exc:
        raise ValueError(_why(line, str(exc))) from None
    except UnicodeDecodeError:
        raise ValueError(_why(line, "not valid UTF-8")) from None
    except RecursionError:  # msgspec's limit is the interpreter's: refuse well before it
        raise ValueError(_TOO_DEEP) from None
    # A line nested deeper than MAX_DEPTH has that many brackets; counting them costs little.
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise ValueError(_TOO_DEEP)
    return value


def _why(line: bytes, fallback: str) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:  # orjson would say "surrogates not allowed"
        hint = "; UTF-16? save it as UTF-8" if line[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return f"not valid UTF-8 (byte {line[exc.start]:#04x} at offset {exc.start}{hint})"
    # orjson words its errors better ("trailing comma is not allowed"); ask it why.
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as why:
        return str(why).split(": line ")[0]
    return fallback


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest (a scalar is 0); iterative: no RecursionError."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def dumps(obj: Any) -> bytes:
    """One JSON line, UTF-8, no ASCII escaping (U+2028 stays as it is, as JSON allows)."""
    try:
        return orjson.dumps(obj) + b"\n"
    except TypeError:  # an integer over 64 bits: the stdlib writes it exactly
        text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"))
        return text.encode() + b"\n"


def _finite(value: Any) -> Any:
    """NaN and infinities as null, as orjson writes them (the stdlib would write a bare NaN,
    which is not JSON and which camelid itself refuses to read)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def parse_object(name: str, number: int, line: bytes) -> dict[str, Any]:
    try:
        value = loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(name, number, f"invalid JSON: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise BadInputError(name, number, f"expected a JSON object, got {json_type(value)}")
    return value


def to_record(name: str, number: int, data: dict[str, Any]) -> Record:
    try:
        record = Record.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(name, number, describe_validation(exc)) from None
    record._where = f"{name}:{number}"
    return record


def describe_validation(exc: ValidationError) -> str:
    """'field "scores.quality": Input should be a valid number' for the first errors."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f'field "{loc}": {err["msg"]}')
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _short(exc: Exception) -> str:
    return str(exc).split(": line ")[0]


def _special(path: Path) -> bool:
    # /dev/stderr may lead to a regular file (a log): still never to be renamed over.
    if path.absolute().parts[1:2] in (("dev",), ("proc",)):
        return True
    return path.exists() and not path.is_file() and not path.is_dir()


def file_mode(path: Path, folder: bool = False) -> int:
    """The mode a file (or folder) put in place of `path` gets: the old one's, else what umask
    allows. Temp files and folders are made 0600/0700, which would survive the rename."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return (0o777 if folder else 0o666) & ~mask


def write_file_atomic(path: Path, data: bytes) -> None:
    """A small file (--stats, a marker) written whole or not at all, with the usual mode."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, file_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AtomicWriter:
    """Write JSONL to stdout, or to a temp file beside PATH renamed into place on success.

    With append=True (resume) records go straight onto the end of PATH; with direct=True
    (generation commands) PATH is rewritten in place. Both are flushed batch by batch.
    """

    def __init__(self, path: str | None, append: bool = False, direct: bool = False):
        self.path = None if path in (None, STDIO) else Path(path)
        self.count = 0
        self._tmp: Path | None = None
        self._created = False  # written in place by us: removed again if nothing got in
        self._lazy = False  # in place, not opened yet
        if self.path is None:
            self._out: IO[bytes] = sys.stdout.buffer
        elif direct and not append and not _special(self.path):
            # Long generation runs write in place, flushed batch by batch, so that a killed run
            # leaves its finished records where --resume finds them. Opened at the first write:
            # a run that fails before then (bad input) leaves an existing file as it was.
            self._lazy = True
            self._created = True
        elif append or _special(self.path):
            # A device or pipe (/dev/null, /dev/stderr, a fifo) is written in place: renaming a
            # temp file over it would replace the device with a regular file.
            self._out = open(self.path, "ab")  # noqa: SIM115  (never truncate what fd 2 logs to)
        else:
            if self.path.is_symlink():  # replace the file it points to, keep the link
                self.path = self.path.resolve()
            if self.path.is_dir():
                raise UsageError(f"{self.path}: is a directory, expected a file name for -o")
            if not self.path.parent.exists():
                raise UsageError(f"{self.path}: its folder {self.path.parent} does not exist")
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            os.fchmod(fd, file_mode(self.path))  # mkstemp's 0600 would survive the rename
            self._tmp = Path(tmp)
            self._out = os.fdopen(fd, "wb")

    def open(self) -> None:
        """Create (or empty) an in-place file now, not at the first write."""
        self._open_in_place()

    def _open_in_place(self) -> None:
        if self._lazy and self.path is not None:
            self._out = open(self.path, "wb")  # noqa: SIM115
            self._lazy = False

    def write(self, obj: Record | dict[str, Any]) -> None:
        data = obj.to_dict() if isinstance(obj, Record) else obj
        self._open_in_place()
        try:
            self._out.write(dumps(data))
        except BrokenPipeError:
            raise OutputClosed from None
        self.count += 1

    def write_many(self, objs: Iterable[Record | dict[str, Any]]) -> None:
        """Several records in one write: a kill lands before or after the batch, not inside."""
        blob = b"".join(dumps(o.to_dict() if isinstance(o, Record) else o) for o in objs)
        self.write_bytes(blob, blob.count(b"\n"))

    def write_bytes(self, blob: bytes, count: int) -> None:
        """Ready-made JSONL (`count` records), e.g. lines copied through as they were read."""
        if not blob:
            return
        self._open_in_place()
        try:
            self._out.write(blob)
        except BrokenPipeError:
            raise OutputClosed from None
        self.count += count

    def sync(self) -> int | None:
        """Flush to the disk; the file's size now (None for stdout, devices and pipes)."""
        if self._lazy or self.path is None:
            return None
        self.flush()
        try:
            os.fsync(self._out.fileno())
        except OSError:  # pipes and devices cannot be synced
            return None
        return self._out.tell()

    def flush(self) -> None:
        if self._lazy:
            return
        try:
            self._out.flush()
        except BrokenPipeError:
            raise OutputClosed from None

    def commit(self, create: bool = True) -> None:
        """Finish the file. create=False (a stopped run): an in-place file that was never
        written is not created, so an earlier file of that name stays as it was."""
        if self._lazy and not create:
            return
        self._open_in_place()  # a finished run that wrote nothing still leaves its output
        self.flush()
        if self.path is None:
            return
        with contextlib.suppress(OSError):  # pipes and devices cannot be synced (EINVAL)
            os.fsync(self._out.fileno())
        self._out.close()
        if self._tmp is not None:
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self.path is None or self._lazy:
            return
        self._out.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        elif self._created and self.count == 0:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
