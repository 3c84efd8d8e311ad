"""Where `export` writes what is not JSON Lines: one Alpaca JSON array, or a `datasets` folder.

Both are written the way every camelid output is: built beside the target and renamed into
place at the end, so a failed run leaves nothing half-written under the name the user gave.
`datasets` is imported only when a folder is written.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camelid.errors import CamelidError, OutputClosed, UsageError
from camelid.io import AtomicWriter, dumps, file_mode
from camelid.records import Record

# A folder `save_to_disk` wrote (a DatasetDict, or a single Dataset): safe to replace.
DATASET_MARKERS = ("dataset_dict.json", "state.json")
INSTALL_HINT = "--format hf needs the `datasets` package: pip install 'camelid[hf]'"


class JsonArrayWriter(AtomicWriter):
    """One JSON array with an item per line, to a file (atomically) or stdout."""

    def write(self, obj: Record | dict[str, Any]) -> None:
        data = obj.to_dict() if isinstance(obj, Record) else obj
        self._raw((b",\n" if self.count else b"[\n") + dumps(data).rstrip(b"\n"))
        self.count += 1

    def commit(self, create: bool = True) -> None:
        self._raw(b"\n]\n" if self.count else b"[]\n")
        super().commit(create)

    def _raw(self, data: bytes) -> None:
        # AtomicWriter.write puts a whole JSON line; an array needs its brackets and commas.
        try:
            self._out.write(data)
        except BrokenPipeError:
            raise OutputClosed from None


def check_test_size(value: float) -> None:
    """A fraction in [0, 1) or a whole number of rows; 0 means no test split."""
    if value < 0 or (value >= 1 and value != int(value)):
        raise UsageError(
            f"--test-size {value:g}: give a fraction below 1 (0.1 is 10%) or a whole number of rows"
        )


def held_out(rows: int, test_size: float) -> int:
    """How many rows go to the test split; rounded up, as `datasets` rounds a fraction."""
    count = int(test_size) if test_size >= 1 else math.ceil(rows * test_size)
    if test_size and (count == 0 or count >= rows):
        left = "no test rows" if count == 0 else "no training rows"
        raise UsageError(f"--test-size {test_size:g} leaves {left} from {rows} rows")
    return count


def check_folder(path: str) -> Path:
    """Refused before any record is read: no datasets package, or a target that is not ours."""
    if importlib.util.find_spec("datasets") is None:
        raise CamelidError(INSTALL_HINT)
    target = Path(path).expanduser()
    if target.is_symlink():
        target = target.resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{path}: is a file; --format hf writes a folder")
    ours = any((target / marker).is_file() for marker in DATASET_MARKERS)
    if target.is_dir() and any(target.iterdir()) and not ours:
        raise UsageError(f"{path}: exists and is not a datasets folder; give a new or empty folder")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: its folder {target.parent} does not exist")
    return target


def save_folder(
    rows: Sequence[dict[str, Any]], target: Path, test_size: float, seed: int
) -> dict[str, int]:
    """A DatasetDict with a train split (and a test split unless test_size is 0) saved with
    `save_to_disk` into target, replacing a datasets folder there. Returns the split sizes."""
    from datasets import Dataset, DatasetDict

    count = held_out(len(rows), test_size)
    data = Dataset.from_list(list(rows))
    if count:
        split = data.train_test_split(test_size=count, seed=seed)
        splits = DatasetDict({"train": split["train"], "test": split["test"]})
    else:
        splits = DatasetDict({"train": data})
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(build, file_mode(target, folder=True))  # mkdtemp's 0700 would survive the rename
    old = target.parent / f"{build.name}.old"
    try:
        splits.save_to_disk(str(build))
        if target.exists():
            os.replace(target, old)
        os.replace(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)  # put the previous folder back
        raise
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
    return {name: len(split) for name, split in splits.items()}
