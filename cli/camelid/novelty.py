"""Fast, exact ROUGE-L novelty filtering: Self-Instruct's "drop a new instruction whose ROUGE-L F1
against any instruction already in the pool exceeds 0.7".

Scores are the ones Google's `rouge_score` gives (`RougeScorer(["rougeL"]).score(new, old)`,
which is `_score_lcs(new_tokens, old_tokens)`), computed with the same float operations, so the
`> threshold` decisions are identical, not merely close. What makes it fast:

1. Texts become lists of token ids. Each pool entry is also kept as a str with one code point per
   token id, so rapidfuzz's C++ bit-parallel LCS runs on whole token sequences.
2. An inverted index (token id -> pool entries holding it, with counts) gives, in numpy, the
   multiset overlap `o` of the new text with every pool entry. LCS <= o, so F1 computed from `o`
   bounds the exact F1 from above: an entry with o == 0 scores exactly 0, one with o == 1 scores
   exactly F1(1), and only entries with o >= 2 need an LCS.
3. The maximum (hence the decision) and the top-k need the LCS only of entries whose bound can
   still reach the k-th best score: a sample of likely neighbours (entries holding the text's
   rarest tokens) gives a first floor for it, then the remaining candidates are scored best
   bound first, the floor rising as they go. Typically a few dozen LCS per check.
4. The average over the whole pool needs the LCS of every entry with o >= 2, so it is computed
   only when asked for (`avg=True`), several times slower.

Measured by tests/bench/novelty.py (out/bench/novelty.json).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from camelid.text import TOKENIZERS, TokenizerName, tokenize

CHUNK = 64  # entries scored in the first round; on the benchmark 40-64 were best, 256 ~20% slower


def f1_from_lcs(lcs: int, target_len: int, prediction_len: int) -> float:
    """rouge_score's ROUGE-L F-measure from an LCS length, with its exact float operations."""
    if target_len == 0 or prediction_len == 0:
        return 0.0
    precision = lcs / prediction_len
    recall = lcs / target_len
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _f1_array(lcs: np.ndarray, target_len: int, prediction_len: np.ndarray) -> np.ndarray:
    """f1_from_lcs over arrays of LCS lengths >= 1 (so precision + recall > 0); numpy's float64
    operations round exactly like Python's floats, in the same order."""
    precision = lcs / prediction_len
    recall = lcs / target_len
    return 2 * precision * recall / (precision + recall)


def rouge_l(
    target: str | Sequence[str],
    prediction: str | Sequence[str],
    *,
    tokenizer: TokenizerName = "unicode",
) -> float:
    """ROUGE-L F1 of two texts (or token lists), with rouge_score's formula: the very value
    rouge_score gives with tokenizer="rouge", or on ASCII text."""
    a = tokenize(target, tokenizer) if isinstance(target, str) else target
    b = tokenize(prediction, tokenizer) if isinstance(prediction, str) else prediction
    if not a or not b:
        return 0.0
    return f1_from_lcs(LCSseq.similarity(a, b), len(a), len(b))


class Match(NamedTuple):
    index: int  # position in the pool (insertion order)
    text: str
    score: float


@dataclass(frozen=True)
class NoveltyResult:
    novel: bool  # max_score <= threshold
    max_score: float  # highest ROUGE-L F1 against the pool (0.0 for an empty pool)
    top: list[Match] = field(default_factory=list)  # most similar entries, best first
    avg_score: float | None = None  # mean F1 over the whole pool, when asked for


class NoveltyPool:
    """A growing pool of texts; `check` scores a new text against all of them.

    `top` lists up to `top_k` entries with a nonzero score, best first, ties by pool order.
    """

    def __init__(
        self,
        texts: Iterable[str] = (),
        *,
        threshold: float = 0.7,
        tokenizer: TokenizerName = "unicode",
        top_k: int = 10,
    ) -> None:
        if tokenizer not in TOKENIZERS:
            raise ValueError(
                f"unknown tokenizer {tokenizer!r}; choose one of: {', '.join(TOKENIZERS)}"
            )
        self.threshold = threshold
        self.tokenizer: TokenizerName = tokenizer
        self.top_k = top_k
        self._vocab: dict[str, int] = {}
        self._texts: list[str] = []
        self._seqs: list[str | list[int]] = []  # token ids, one code point each (see _encode)
        self._lengths = array("i")  # token count of each entry
        self._postings: dict[int, tuple[array, array]] = {}  # token -> (entries, counts)
        for text in texts:
            self.add(text)

    def __len__(self) -> int:
        return len(self._texts)

    @property
    def texts(self) -> list[str]:
        """The pool's texts in insertion order (Match.index points here); do not modify."""
        return self._texts

    def _ids(self, text: str, grow: bool) -> list[int]:
        vocab = self._vocab
        tokens = tokenize(text, self.tokenizer)
        if grow:
            return [vocab.setdefault(tok, len(vocab)) for tok in tokens]
        # A token the pool has never seen matches nothing in it: one spare id stands for all.
        unseen = len(vocab)
        return [vocab.get(tok, unseen) for tok in tokens]

    @staticmethod
    def _encode(ids: list[int]) -> str | list[int]:
        # rapidfuzz compares a str's code points with a list's ints by value, so the rare entry
        # with ids beyond the last code point can stay a list and still compare exactly.
        try:
            return "".join(map(chr, ids))
        except ValueError:
            return ids

    def add(self, text: str) -> int:
        """Add a text to the pool unconditionally; returns its index."""
        ids = self._ids(text, grow=True)
        index = len(self._texts)
        self._texts.append(text)
        self._seqs.append(self._encode(ids))
        self._lengths.append(len(ids))
        for token, count in Counter(ids).items():
            posting = self._postings.get(token)
            if posting is None:
                posting = self._postings[token] = (array("i"), array("i"))
            posting[0].append(index)
            posting[1].append(count)
        return index

    def _overlap(self, counts: Counter[int]) -> np.ndarray:
        """Multiset overlap of the query's token counts with every pool entry (mostly 0)."""
        once: list[np.ndarray] = []
        repeated: list[tuple[np.ndarray, np.ndarray, int]] = []
        for token, count in counts.items():
            posting = self._postings.get(token)
            if posting is None:
                continue
            entries = np.frombuffer(posting[0], dtype=np.int32)
            if count == 1:
                once.append(entries)  # min(1, count in the entry) is 1
            else:
                repeated.append((entries, np.frombuffer(posting[1], dtype=np.int32), count))
        size = len(self._texts)
        if once:
            overlap = np.bincount(np.concatenate(once), minlength=size)
        else:
            overlap = np.zeros(size, dtype=np.intp)
        for entries, counts_in_entries, count in repeated:
            overlap[entries] += np.minimum(counts_in_entries, count)
        return overlap

    def _sample(self, counts: Counter[int], size: int) -> np.ndarray:
        """Up to about `size` distinct entries holding the query's rarest tokens: likely the
        most similar ones, found without a pass over the pool."""
        postings = sorted((p[0] for p in map(self._postings.get, counts) if p is not None), key=len)
        parts, total = [], 0
        for posting in postings:
            if total >= size:
                break
            part = np.frombuffer(posting, dtype=np.int32)[-(size - total) :]
            parts.append(part)
            total += len(part)
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int32)

    def _scores(
        self, query: str | list[int], m: int, entries: np.ndarray, overlap: np.ndarray
    ) -> np.ndarray:
        """Exact F1 of the query against the given entries (all with overlap >= 1)."""
        lcs = overlap[entries]
        several = np.flatnonzero(lcs >= 2)  # overlap 1 means LCS 1: no need to compute it
        if len(several):
            seqs = self._seqs
            choices = [seqs[i] for i in entries[several].tolist()]
            lcs[several] = process.cdist([query], choices, scorer=LCSseq.similarity)[0]
        lengths = np.frombuffer(self._lengths, dtype=np.int32)
        return _f1_array(lcs, m, lengths[entries])

    def check(self, text: str, *, avg: bool = False) -> NoveltyResult:
        """Score a text against the pool without adding it.

        With `avg=True` the result also carries the mean F1 over the whole pool; that needs the
        LCS of every entry sharing two tokens or more with the text, so it is several times
        slower than the default, which computes only the LCS that can change the top-k.
        """
        ids = self._ids(text, grow=False)
        if not self._texts or not ids:
            return NoveltyResult(True, 0.0, [], 0.0 if avg else None)
        query = self._encode(ids)
        m = len(ids)
        counts = Counter(ids)
        overlap = self._overlap(counts)
        if avg:
            hit = np.flatnonzero(overlap)  # entries with no token in common score exactly 0
            scores = self._scores(query, m, hit, overlap)
            everything = np.zeros(len(overlap))
            everything[hit] = scores
            # np.mean over the pool in pool order: the very value self-instruct computes.
            return self._result(hit, scores, float(np.mean(everything)))
        return self._result(*self._top_scores(query, m, counts, overlap), None)

    def _top_scores(
        self, query: str | list[int], m: int, counts: Counter[int], overlap: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores of a set of entries that surely holds the top-k, ties included.

        The k-th best score of a sample of likely neighbours is a floor for the true k-th best.
        An entry sharing o tokens scores at most 2o / (m + n) <= 2o / (m + o), so only entries
        whose overlap can reach that floor are candidates: one integer pass over the pool.
        """
        k = max(self.top_k, 1)  # k >= 1: the maximum, hence the decision, is always exact
        floor, least = 0.0, 1
        sample = self._sample(counts, max(4 * k, CHUNK))
        if len(sample) >= k:
            scores = self._scores(query, m, sample, overlap)
            floor = float(np.partition(scores, len(scores) - k)[len(scores) - k])
            # The smallest overlap whose best case reaches the floor; the margin covers
            # rounding, so what is skipped scores strictly below the floor.
            least = next(o for o in range(1, m + 1) if 2 * o / (m + o) >= floor - 1e-9)
        candidates = np.flatnonzero(overlap >= least)
        return self._best(query, m, candidates, overlap, k, floor)

    def _best(
        self,
        query: str | list[int],
        m: int,
        candidates: np.ndarray,
        overlap: np.ndarray,
        k: int,
        floor: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score candidates best bound first, in growing chunks, dropping after each chunk every
        candidate whose bound is below the k-th best exact score found so far (or the floor)."""
        lengths = np.frombuffer(self._lengths, dtype=np.int32)
        keys = overlap[candidates] / (m + lengths[candidates])  # bound / 2, up to rounding
        done_entries: list[np.ndarray] = []
        done_scores: list[np.ndarray] = []
        chunk = max(4 * k, CHUNK)
        while len(candidates):
            keep = keys >= floor / 2 - 1e-9  # the margin covers rounding
            candidates, keys = candidates[keep], keys[keep]
            if len(candidates) > chunk:
                order = np.argpartition(keys, len(keys) - chunk)
                take, rest = order[len(keys) - chunk :], order[: len(keys) - chunk]
                entries, candidates, keys = candidates[take], candidates[rest], keys[rest]
            else:
                entries, candidates = candidates, candidates[:0]
            done_entries.append(entries)
            done_scores.append(self._scores(query, m, entries, overlap))
            scores = np.concatenate(done_scores)
            if len(scores) >= k:
                floor = max(floor, float(np.partition(scores, len(scores) - k)[len(scores) - k]))
            chunk *= 2
        if not done_entries:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(done_entries), np.concatenate(done_scores)

    def _result(self, entries: np.ndarray, scores: np.ndarray, avg: float | None) -> NoveltyResult:
        best = float(scores.max()) if len(scores) else 0.0
        top: list[Match] = []
        if self.top_k > 0 and len(scores):
            # Best score first, ties by pool order.
            order = np.lexsort((entries, -scores))[: self.top_k]
            top = [Match(int(entries[i]), self._texts[entries[i]], float(scores[i])) for i in order]
        return NoveltyResult(best <= self.threshold, best, top, avg)

    def check_and_add(self, text: str, *, avg: bool = False) -> NoveltyResult:
        """Score a text and add it to the pool when it is novel."""
        result = self.check(text, avg=avg)
        if result.novel:
            self.add(text)
        return result
