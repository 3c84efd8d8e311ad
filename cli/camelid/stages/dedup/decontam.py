"""Decontamination: find records that overlap a benchmark (`dedup --against FILE...`).

Two tests, the first that fires is the reason, and both name the benchmark record:
1. a run of n words (13 by default, as in GPT-3's contamination study) shared with any benchmark
   record, words compared as `novelty.unicode_tokenize` gives them (case and punctuation
   ignored). All benchmark n-grams are held as one sorted array of 64-bit hashes, so a record
   costs one vectorised lookup. A benchmark record shorter than n words has no n-gram: only the
   second test can find it.
2. a near-duplicate of a benchmark record by the dedup method and threshold in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from camelid.errors import BadInputError
from camelid.fields import BadField
from camelid.io import iter_lines, parse_object
from camelid.stages.dedup.base import Method
from camelid.stages.dedup.shingles import Shingler
from camelid.stages.dedup.text import field_text

BENCHMARK_FIELDS = ("instruction", "input", "question", "prompt", "problem", "text")


@dataclass(frozen=True)
class BenchmarkRecord:
    where: str  # file:line
    id: str | None
    text: str

    def name(self) -> str:
        return f"{self.where} (id {self.id})" if self.id else self.where


class Contamination(NamedTuple):
    kind: str  # "13-gram" or the method's name
    reason: str
    benchmark: BenchmarkRecord
    score: float | None = None


def load_benchmarks(paths: Iterable[str], fields: Sequence[str]) -> list[BenchmarkRecord]:
    """The benchmark records with some text in `fields`; a malformed line is an error."""
    out = []
    for name, number, line in iter_lines(paths):
        record = parse_object(name, number, line)
        try:
            text = field_text(record, fields)
        except BadField as exc:
            raise BadInputError(name, number, str(exc)) from None
        if text.strip():
            ident = record.get("id")
            out.append(BenchmarkRecord(f"{name}:{number}", str(ident) if ident else None, text))
    return out


class Decontaminator:
    def __init__(self, benchmark: list[BenchmarkRecord], ngram: int, method: Method | None):
        self.benchmark, self.ngram, self.method = benchmark, ngram, method
        self.shingler = Shingler(ngram, "word")
        texts = [b.text for b in benchmark]
        hashes, counts = self.shingler.hashes(texts, whole=False)
        owner = np.repeat(np.arange(len(texts)), counts)
        self._hashes, first = np.unique(hashes, return_index=True)  # sorted
        self._owner = owner[first]  # the first benchmark record with each n-gram
        if method is not None:
            method.set_benchmark(texts)

    def check(self, texts: list[str]) -> list[Contamination | None]:
        out: list[Contamination | None] = [None] * len(texts)
        hashes, counts = self.shingler.hashes(texts, whole=False)
        if len(self._hashes) and len(hashes):
            at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
            hit = np.flatnonzero(self._hashes[at] == hashes)
            text_of = np.repeat(np.arange(len(texts)), counts)
            rank = np.arange(len(hashes)) - np.repeat(np.cumsum(counts) - counts, counts)
            first = np.unique(text_of[hit], return_index=True)[1]  # a text's first shared n-gram
            for k in hit[first].tolist():
                t = int(text_of[k])
                out[t] = self._shared(texts[t], int(rank[k]), int(self._owner[at[k]]))
        rest = [t for t, found in enumerate(out) if found is None]
        if self.method is not None and rest:
            match, score = self.method.against([texts[t] for t in rest])
            for t, m, s in zip(rest, match.tolist(), score.tolist(), strict=True):
                if m >= 0:
                    bench = self.benchmark[m]
                    reason = (
                        f"near-duplicate of benchmark record {bench.name()}: "
                        f"{self.method.describe(s)}"
                    )
                    out[t] = Contamination(self.method.name, reason, bench, s)
        return out

    def _shared(self, text: str, start: int, owner: int) -> Contamination:
        words = " ".join(self.shingler.tokens(text)[start : start + self.ngram])
        bench = self.benchmark[owner]
        reason = (
            f'shares the {self.ngram}-word sequence "{words}" with benchmark record {bench.name()}'
        )
        return Contamination(f"{self.ngram}-gram", reason, bench)
