"""`dedup --executor ray`: pass 1's per-record work on a Ray cluster, with Ray Data.

On the workers, block by block (`scan_block`): parsing each line, each record's compared text,
id and priority, the benchmark check (--against: its n-gram hashing and lookups) and the
method's sketch (MinHash band keys and compact signature; the exact method's hash). That is
where the time goes, and each record's results are independent of the other records in its
block, so blocks can be cut anywhere and run on any node.

On the driver: reading the lines (files and stdin need not be visible to the workers), then,
block results taken back in input order, the same bookkeeping as a local run, the LSH buckets
and clusters (cluster.py), and pass 2 (run.py). Buckets are grouped on the driver on purpose:
each record is compared with a bounded window of the records before it in its bucket, in input
order, so grouping them elsewhere would have to reproduce that order exactly; on the driver it
is the very same code, hence the very same kept set, for a few percent of the work.

Records travel as raw JSON lines: a binary column of the line bytes (with their row numbers),
never parsed into Arrow columns, whose schema inference breaks on heterogeneous records. A
worker's results come back pickled, one row per run of consecutive rows.
"""

from __future__ import annotations

import logging
import pickle
import uuid
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from types import ModuleType
from typing import Any

import numpy as np
import orjson

from camelid.errors import CamelidError
from camelid.io import iter_lines
from camelid.runtime import Run
from camelid.runtime.cluster import connect, remote_cause
from camelid.stages.dedup.decontam import BenchmarkRecord, Contamination
from camelid.stages.dedup.deduplicator import Deduplicator
from camelid.stages.dedup.run import bad_line
from camelid.stages.dedup.settings import Settings, build_decontaminator, build_method, plan
from camelid.stages.dedup.text import field_text, priority, record_id

MIN_BLOCK, MAX_BLOCK = 256, 8192  # rows a block: small ones first, so small inputs spread too


@dataclass(frozen=True)
class Job:
    """What every worker needs to scan, shipped with the task function."""

    settings: Settings
    benchmark: list[BenchmarkRecord] | None
    key: str  # names this run's scanner in each worker's cache


@dataclass
class Scanned:
    """A worker's results for the rows start .. start + count - 1, in order."""

    start: int
    count: int
    bad: list[tuple[int, str, bytes]]  # (offset, error, line) of the lines that are no record
    ids: list[str]  # of the records (the other lines), in order
    priority: list[float]
    text: list[int]  # positions in `ids` of the records with text
    hits: dict[int, Contamination]  # found in a benchmark, by position in `text`
    clean: np.ndarray  # positions in `text` that were sketched
    sketch: Any  # the method's sketch of those (see MinHashMethod.sketch)


class Scanner:
    """Pass 1's per-record work, as Deduplicator.scan and _flush do it locally."""

    def __init__(self, job: Job) -> None:
        self.plan = plan(job.settings)
        self.method = build_method(job.settings)
        self.decontaminator = build_decontaminator(job.settings, self.method, job.benchmark)

    def scan(self, lines: list[bytes], start: int) -> Scanned:
        fields, keep, aspects = self.plan.fields, self.plan.keep, self.plan.keep_aspects
        bad: list[tuple[int, str, bytes]] = []
        ids: list[str] = []
        worth: list[float] = []
        texts: list[str] = []
        with_text: list[int] = []
        for k, line in enumerate(lines):
            try:  # what run.scan_here and Deduplicator.scan do, in the same order
                record = orjson.loads(line)
                if type(record) is not dict:
                    raise ValueError
                text = field_text(record, fields)
                ident = record_id(record)
                value = priority(record, text, keep, aspects)
            except ValueError as exc:  # the driver words it (run._problem) from str(exc)
                bad.append((k, str(exc), line))
                continue
            if text.strip():
                with_text.append(len(ids))
                texts.append(text)
            ids.append(ident)
            worth.append(value)
        hits: dict[int, Contamination] = {}
        clean = np.arange(len(texts))
        if self.decontaminator is not None and texts:
            found = self.decontaminator.check(texts)
            hits = {k: hit for k, hit in enumerate(found) if hit is not None}
            clean = np.array([k for k, hit in enumerate(found) if hit is None], dtype=np.int64)
        sketch = self.method.sketch([texts[k] for k in clean]) if len(clean) else None  # type: ignore[attr-defined]
        return Scanned(start, len(lines), bad, ids, worth, with_text, hits, clean, sketch)


_scanners: dict[str, Scanner] = {}  # per worker process: built once a run, not once a block


def scan_block(batch: Any, job: Job) -> dict[str, np.ndarray]:
    """The Ray Data task: a block of lines (a pyarrow table of `line` and `row`) in, one
    pickled `Scanned` per run of consecutive rows out (a block is one run unless Ray merged
    or reordered blocks, which the driver then puts back in order)."""
    warm_up(job)
    scanner = _scanners[job.key]
    rows = batch.column("row").to_numpy()
    lines = batch.column("line").to_pylist()
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    cuts = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist(), len(rows)]
    starts, payloads = [], []
    for a, b in zip(cuts, cuts[1:], strict=False):
        part = [lines[k] for k in order[a:b].tolist()]
        starts.append(int(rows[a]))
        payloads.append(pickle.dumps(scanner.scan(part, int(rows[a])), protocol=5))
    return {"start": np.array(starts, dtype=np.int64), "payload": np.array(payloads, dtype=object)}


def warm_up(job: Job) -> None:
    """A task run once a worker: importing this module and Ray Data, and building the run's
    scanner (the benchmark index with --against), before the first block arrives."""
    import ray.data  # noqa: F401  (Ray Data's own tasks need it: a second to import)

    if job.key not in _scanners:
        _scanners.clear()
        _scanners[job.key] = Scanner(job)


def in_order(results: Iterable[Scanned]) -> Iterator[Scanned]:
    """The results in input order, whatever order the blocks finished in."""
    pending: dict[int, Scanned] = {}
    done = 0
    for scanned in results:
        pending[scanned.start] = scanned
        while done in pending:
            scanned = pending.pop(done)
            yield scanned
            done += scanned.count
    if pending:
        raise RuntimeError(f"dedup on Ray: rows from {min(pending)} came back, not from {done}")


class RayScan:
    """Pass 1 on Ray (a `run.Scan`): joins the cluster when made, before any output is opened."""

    def __init__(
        self, settings: Settings, benchmark: list[BenchmarkRecord] | None, address: str | None
    ) -> None:
        self.ray = connect(address)
        _configure_ray_data()
        self.job = Job(settings, benchmark, uuid.uuid4().hex)
        # A new job's first tasks wait for worker processes to start and import camelid (a
        # second or two): start them now, one a CPU, while the driver reads the input.
        cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        warm = self.ray.remote(num_cpus=1)(warm_up).options(scheduling_strategy="SPREAD")
        self._warm = [warm.remote(self.job) for _ in range(cpus)]

    def __call__(
        self, run: Run, dedup: Deduplicator, inputs: list[tuple[str, str]]
    ) -> set[tuple[str, int]]:
        names = [name for _, name in inputs]
        file_of, numbers = array("H"), array("i")  # each row's input file and line number
        refs = list(self._blocks(inputs, file_of, numbers))
        try:
            self.ray.get(self._warm)
        except self.ray.exceptions.RayError as exc:
            cause = remote_cause(exc)
            raise CamelidError(
                f"--executor ray: the Ray workers cannot run dedup: {cause}"
            ) from None
        bad: set[tuple[str, int]] = set()
        if not refs:
            return bad
        data = self.ray.data.from_arrow_refs(refs).map_batches(
            scan_block,
            fn_kwargs={"job": self.job},
            batch_format="pyarrow",
            batch_size=None,  # a block is a batch: the driver cut them
            zero_copy_batch=True,
        )
        done = 0
        file_no, line_no = np.array(file_of, dtype=np.int64), np.array(numbers, dtype=np.int64)
        for scanned in in_order(pickle.loads(row["payload"]) for row in data.iter_rows()):
            self._take(run, dedup, scanned, names, file_no, line_no, bad)
            done += scanned.count
            run.progress.update(read=done)
        if done != len(numbers):
            raise RuntimeError(f"dedup on Ray: {done} of {len(numbers)} lines came back")
        return bad

    def _blocks(
        self, inputs: list[tuple[str, str]], file_of: array, numbers: array
    ) -> Iterator[Any]:
        """The input lines in blocks put in Ray's object store as they are read (the driver
        keeps only each line's file and number); a block never spans two files. Blocks grow
        with the input read so far, so a small input still makes a block for each CPU."""
        import pyarrow as pa

        for f, (path, _) in enumerate(inputs):
            read = iter_lines([path])
            while chunk := list(islice(read, min(MAX_BLOCK, max(MIN_BLOCK, len(numbers) // 8)))):
                numbers.extend([number for _, number, _ in chunk])
                file_of.extend(array("H", [f]) * len(chunk))
                yield self._put(pa, [line for _, _, line in chunk], len(numbers))

    def _put(self, pa: ModuleType, block: list[bytes], end: int) -> Any:
        rows = np.arange(end - len(block), end, dtype=np.int64)
        table = pa.table({"line": pa.array(block, type=pa.binary()), "row": rows})
        return self.ray.put(table)

    @staticmethod
    def _take(
        run: Run,
        dedup: Deduplicator,
        scanned: Scanned,
        names: list[str],
        file_of: np.ndarray,
        numbers: np.ndarray,
        bad: set[tuple[str, int]],
    ) -> None:
        """A block's results into the deduplicator, as the local pass 1 would have left them
        (`file_of` and `numbers`: each row's input file and line number)."""
        good = np.ones(scanned.count, dtype=bool)
        for k, error, line in scanned.bad:  # the first stops the run, unless skipping them
            row = scanned.start + k
            bad_line(run, bad, ValueError(error), names[file_of[row]], int(numbers[row]), line)
            good[k] = False
        rows = scanned.start + np.flatnonzero(good)
        files = file_of[rows]
        has_text = np.zeros(len(rows), dtype=bool)
        has_text[scanned.text] = True
        cuts = [0, *(np.flatnonzero(np.diff(files)) + 1).tolist(), len(rows)]
        index = np.concatenate(
            [
                dedup.register_many(
                    scanned.ids[a:b],
                    scanned.priority[a:b],
                    names[files[a]],
                    numbers[rows[a:b]],
                    has_text[a:b],
                )
                for a, b in zip(cuts, cuts[1:], strict=False)
            ]
        )
        dedup.add_sketched(index[scanned.text], scanned.hits, scanned.clean, scanned.sketch)


def _configure_ray_data() -> None:
    """Ray Data's progress bars and notices off the terminal: stderr carries camelid's own
    progress and summary (Ray Data's log files under the session folder keep everything).
    And no CPUs held back per operator: with one operator, the default reservation (half the
    cluster's CPUs) left the other half idle, one task running at a time on two CPUs."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.op_resource_reservation_enabled = False
    for handler in logging.getLogger("ray.data").handlers:
        if isinstance(handler, logging.StreamHandler):  # the console handler, not the file one
            handler.setLevel(logging.ERROR)
