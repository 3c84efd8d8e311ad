"""Deduplication in two passes over the records, holding per record only what the method keeps
(a signature, a hash or an embedding), its id, where it was read and its priority.

Pass 1 (`scan`) reads every record: its text goes first to the benchmark check (`--against`),
then, if clean, to the method in batches. `finish` clusters. Pass 2 (`outcome`) tells for each
record, in input order, whether it is kept, a duplicate of which record, or contaminated.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from camelid.stages.dedup.base import Clusters, Method
from camelid.stages.dedup.decontam import Contamination, Decontaminator
from camelid.stages.dedup.text import DEFAULT_FIELDS, Keep, field_text, priority, record_id

BATCH = 4096


@dataclass(frozen=True)
class Plan:
    """What to do with the records: compare these fields, keep this one of each cluster."""

    fields: tuple[str, ...] = DEFAULT_FIELDS
    keep: Keep = "first"
    keep_aspects: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Decision:
    kind: str  # "kept", "duplicate" or "contaminated"
    reason: str = ""  # for the dropped ones
    mark: dict[str, Any] | None = None  # the `dedup` object --mark writes


class Strings:
    """Many short strings in one buffer: ~1/4 of the memory of a list of str."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("q")

    def append(self, text: str) -> None:
        self._data += text.encode()
        self._ends.append(len(self._data))

    def extend(self, texts: list[str]) -> None:
        encoded = [text.encode() for text in texts]
        ends = np.cumsum([len(b) for b in encoded], dtype=np.int64) + len(self._data)
        self._data += b"".join(encoded)
        self._ends.frombytes(ends.tobytes())

    def __getitem__(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._data[start : self._ends[i]].decode()


class Deduplicator:
    def __init__(self, plan: Plan, method: Method, decontaminator: Decontaminator | None = None):
        self.plan, self.method, self.decontaminator = plan, method, decontaminator
        self.n = 0
        self.files: list[str] = []
        self._file_no, self._line = array("H"), array("i")
        self._ids = Strings()
        self._priority = array("d")
        self._texts: list[str] = []
        self._batch = array("q")
        self.contaminated: dict[int, Contamination] = {}
        self.no_text = 0
        self.clusters: Clusters | None = None

    def scan(self, record: dict[str, Any], file: str, line: int) -> None:
        """Take in the next record; raises ValueError (BadField) on a field of the wrong type."""
        text = field_text(record, self.plan.fields)
        ident = record_id(record)
        worth = priority(record, text, self.plan.keep, self.plan.keep_aspects)
        # nothing is stored before every field has been read
        i = self.register(ident, worth, file, line, bool(text.strip()))
        if text.strip():
            self._texts.append(text)
            self._batch.append(i)
            if len(self._texts) >= BATCH:
                self._flush()

    def register(self, ident: str, worth: float, file: str, line: int, has_text: bool) -> int:
        """Note the next record (read here by `scan`, or elsewhere); returns its index."""
        self._ids.append(ident)
        self._priority.append(worth)
        if not self.files or self.files[-1] != file:
            self.files.append(file)
        self._file_no.append(len(self.files) - 1)
        self._line.append(line)
        self.no_text += not has_text
        self.n += 1
        return self.n - 1

    def register_many(
        self, ids: list[str], worth: list[float], file: str, lines: np.ndarray, has_text: np.ndarray
    ) -> np.ndarray:
        """`register` for the next records, all read from one file; returns their indices."""
        if not ids:
            return np.zeros(0, dtype=np.int64)
        self._ids.extend(ids)
        self._priority.extend(worth)
        if not self.files or self.files[-1] != file:
            self.files.append(file)
        self._file_no.extend(array("H", [len(self.files) - 1]) * len(ids))
        self._line.frombytes(lines.astype(np.int32).tobytes())
        self.no_text += len(ids) - int(has_text.sum())
        self.n += len(ids)
        return np.arange(self.n - len(ids), self.n)

    def add_sketched(
        self, index: np.ndarray, hits: dict[int, Contamination], clean: np.ndarray, sketch: Any
    ) -> None:
        """Records with text (their indices, ascending) whose benchmark check and sketch were
        done elsewhere (Ray workers), as `_flush` does them: `hits` by position in `index`,
        `clean` the positions that were sketched, in order."""
        for k, hit in hits.items():
            self.contaminated[int(index[k])] = hit
        if len(clean):
            self.method.add_sketch(sketch, index[clean])  # type: ignore[attr-defined]

    def _flush(self) -> None:
        texts, index = self._texts, np.frombuffer(self._batch, dtype=np.int64).copy()
        self._texts, self._batch = [], array("q")
        if self.decontaminator is not None:
            found = self.decontaminator.check(texts)
            for k, hit in enumerate(found):
                if hit is not None:
                    self.contaminated[int(index[k])] = hit
            clean = [k for k, hit in enumerate(found) if hit is None]
            texts, index = [texts[k] for k in clean], index[clean]
        if len(index):
            self.method.add(texts, index)

    def finish(self) -> Clusters:
        self._flush()
        priorities = np.frombuffer(self._priority, dtype=np.float64)
        self.clusters = self.method.cluster(self.n, priorities)
        rep = self.clusters.rep
        # Cluster numbers by first appearance (records outside any cluster count as their own).
        first = np.arange(self.n)
        np.minimum.at(first, rep, np.arange(self.n))
        clean = np.ones(self.n, dtype=bool)
        clean[list(self.contaminated)] = False
        self._cluster_no = np.full(self.n, -1, dtype=np.int64)
        self._cluster_no[clean] = np.unique(first[rep][clean], return_inverse=True)[1]
        return self.clusters

    def where(self, i: int) -> str:
        return f"{self.files[self._file_no[i]]}:{self._line[i]}"

    def record_name(self, i: int) -> str:
        return f"{self.where(i)} (id {self._ids[i]})"

    def outcome(self, i: int, mark: bool) -> Decision:
        """What happens to record i (after `finish`)."""
        assert self.clusters is not None
        hit = self.contaminated.get(i)
        if hit is not None:
            extra = {"contaminated": hit.reason, "benchmark": hit.benchmark.where}
            if hit.benchmark.id:
                extra["benchmark_id"] = hit.benchmark.id
            return Decision("contaminated", hit.reason, extra if mark else None)
        rep = int(self.clusters.rep[i])
        similarity = float(self.clusters.similarity[i])
        kind, reason = "kept", ""
        if rep != i:
            kind = "duplicate"
            reason = (
                f"duplicate of {self.record_name(rep)} by {self.method.name}: "
                f"{self.method.describe(similarity)}"
            )
        if not mark:
            return Decision(kind, reason)
        info = {
            "cluster": int(self._cluster_no[i]),
            "representative": self._ids[rep],
            "duplicate": rep != i,
            "similarity": round(similarity, 4),
        }
        return Decision(kind, reason, info)

    def counts(self) -> Counter[str]:
        """Duplicates per method and contaminated records per test."""
        assert self.clusters is not None
        out = Counter({self.method.name: self.clusters.duplicates()})
        for hit in self.contaminated.values():
            out[f"against {hit.kind}"] += 1
        return out
