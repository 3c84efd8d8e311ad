"""Decontamination: find records that overlap a benchmark (`dedup --against FILE...`).

Three tests, the first that fires is the reason, and each names the benchmark record:
1. a run of n words (13 by default, as in GPT-3's contamination study) shared with a benchmark
   record, words compared as `text.unicode_tokenize` gives them (case and punctuation ignored);
   the reason gives the containment, the share of the benchmark record's n-grams the record
   holds, and `--against-containment` can ask for more than one. All benchmark n-grams are one
   sorted array of 64-bit hashes, so a record costs one vectorised lookup.
2. a benchmark record shorter than n words (a short prompt, "Rewrite the given text and
   correct grammar, spelling, and punctuation errors.") found whole inside the record: it has
   no n-gram of n words, and a record that adds an input to it is no near-duplicate of it.
   Texts under MIN_WHOLE words are too generic to count.
3. a near-duplicate of a benchmark record by the dedup method and threshold in use.
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
MIN_WHOLE = 4  # words: a shorter benchmark text is matched by the near-duplicate test only


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
    def __init__(
        self,
        benchmark: list[BenchmarkRecord],
        ngram: int,
        method: Method | None,
        containment: float = 0.0,
    ):
        self.benchmark, self.ngram, self.method = benchmark, ngram, method
        self.containment = containment  # share of a benchmark record's n-grams needed (0: one)
        self.shingler = Shingler(ngram, "word")
        texts = [b.text for b in benchmark]
        hashes, self._counts = self.shingler.hashes(texts, whole=False)
        owner = np.repeat(np.arange(len(texts)), self._counts)
        self._hashes, first = np.unique(hashes, return_index=True)  # sorted
        self._owner = owner[first]  # the first benchmark record with each n-gram
        self._short = self._whole_index(texts)
        if method is not None:
            method.set_benchmark(texts)

    def _whole_index(self, texts: list[str]) -> dict[int, tuple[Shingler, np.ndarray, np.ndarray]]:
        """Per length L (MIN_WHOLE <= L < n): the hashes of the benchmark texts of L words,
        sorted, and whose each is."""
        lengths = [len(self.shingler.tokens(t)) for t in texts]
        out = {}
        for size in sorted({n for n in lengths if MIN_WHOLE <= n < self.ngram}):
            owners = np.array([i for i, n in enumerate(lengths) if n == size])
            shingler = Shingler(size, "word")
            hashes, _ = shingler.hashes([texts[i] for i in owners], whole=False)
            order = np.argsort(hashes, kind="stable")
            out[size] = (shingler, hashes[order], owners[order])
        return out

    def check(self, texts: list[str]) -> list[Contamination | None]:
        out = self._ngrams(texts)
        for shingler, hashes, owners in self._short.values():
            rest = [t for t, found in enumerate(out) if found is None]
            if not rest:
                break
            grams, counts = shingler.hashes([texts[t] for t in rest], whole=False)
            if not len(grams):
                continue
            at = np.minimum(np.searchsorted(hashes, grams), len(hashes) - 1)
            hit = np.flatnonzero(hashes[at] == grams)
            text_of = np.repeat(np.arange(len(rest)), counts)
            for k in hit[np.unique(text_of[hit], return_index=True)[1]].tolist():
                bench = self.benchmark[int(owners[at[k]])]
                words = " ".join(self.shingler.tokens(bench.text))
                reason = f'holds the whole of benchmark record {bench.name()}: "{words}"'
                out[rest[int(text_of[k])]] = Contamination("whole", reason, bench, 1.0)
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

    def _ngrams(self, texts: list[str]) -> list[Contamination | None]:
        """Test 1: shared n-grams, with the containment of the first benchmark record hit."""
        out: list[Contamination | None] = [None] * len(texts)
        hashes, counts = self.shingler.hashes(texts, whole=False)
        if not len(self._hashes) or not len(hashes):
            return out
        at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        hit = np.flatnonzero(self._hashes[at] == hashes)
        text_of = np.repeat(np.arange(len(texts)), counts)
        rank = np.arange(len(hashes)) - np.repeat(np.cumsum(counts) - counts, counts)
        first = np.unique(text_of[hit], return_index=True)[1]  # a text's first shared n-gram
        for k in hit[first].tolist():
            t, owner = int(text_of[k]), int(self._owner[at[k]])
            mine = hit[(text_of[hit] == t) & (self._owner[at[hit]] == owner)]
            share = len(np.unique(hashes[mine])) / max(1, int(self._counts[owner]))
            if share >= self.containment:
                out[t] = self._shared(texts[t], int(rank[k]), owner, share)
        return out

    def _shared(self, text: str, start: int, owner: int, share: float) -> Contamination:
        words = " ".join(self.shingler.tokens(text)[start : start + self.ngram])
        bench = self.benchmark[owner]
        reason = (
            f'shares the {self.ngram}-word sequence "{words}" with benchmark record '
            f"{bench.name()} (containment {share:.2f} of its {self.ngram}-grams)"
        )
        return Contamination(f"{self.ngram}-gram", reason, bench, share)
