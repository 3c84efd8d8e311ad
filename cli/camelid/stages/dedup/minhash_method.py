"""`minhash`: near-duplicates by estimated Jaccard similarity of n-gram sets, found with LSH.

Memory per record is its band keys and its compact signature (about 200 bytes with the
defaults), never its text: a million records fit in a few hundred MB. With `verify` each
record's distinct shingle hashes are kept too (8 bytes each), and candidates are confirmed by
their exact Jaccard similarity instead of the estimate.
"""

from __future__ import annotations

import numpy as np

from camelid.stages.dedup.base import Clusters
from camelid.stages.dedup.cluster import (
    best_per_query,
    cluster_roots,
    lsh_components,
    representatives,
)
from camelid.stages.dedup.minhash import MinHasher, MinHashParams, compact, estimate

Sketch = tuple[np.ndarray, np.ndarray, np.ndarray, tuple]  # keys, compact, empty, sets
_BUCKET_CAP = 64  # benchmark records looked at per band and query: a bucket that big is noise


class MinHashMethod:
    name = "minhash"

    def __init__(self, params: MinHashParams, verify: bool = False) -> None:
        self.params, self.verify = params, verify
        self.hasher = MinHasher(params)
        self._keys: list[np.ndarray] = []
        self._small: list[np.ndarray] = []
        self._index: list[np.ndarray] = []
        self._sets: list[tuple[np.ndarray, np.ndarray]] = []  # --verify: (distinct hashes, counts)
        self._bench: tuple[np.ndarray, ...] | None = None
        self._bench_sets: tuple[np.ndarray, np.ndarray] | None = None

    def sketch(self, texts: list[str]) -> Sketch:
        """What is kept of each text: band keys, compact signature, whether it had no token,
        and with --verify its distinct shingle hashes. Each text's is independent of the
        others in the batch, so batches can be sketched anywhere (Ray workers) in any size."""
        hashes, counts = self.hasher.shingler.hashes(texts)
        sig, empty = self.hasher.signatures_of(hashes, counts)
        sets = _distinct(hashes, counts) if self.verify else ()
        return self.hasher.band_keys(sig), compact(sig), empty, sets

    def add(self, texts: list[str], index: np.ndarray) -> None:
        self.add_sketch(self.sketch(texts), index)

    def add_sketch(self, sketch: Sketch, index: np.ndarray) -> None:
        """Take in a batch's sketches (see `sketch`) and their record indices, ascending."""
        keys, small, empty, sets = sketch
        some = ~empty  # a text without a single token is like no other: left out
        self._keys.append(keys[some])
        self._small.append(small[some])
        self._index.append(index[some])
        if self.verify:
            self._sets.append((sets[0], sets[1][some]))

    def cluster(self, n: int, priority: np.ndarray) -> Clusters:
        bands, perms = self.hasher.bands, self.params.num_perm
        index = _stack(self._index, (0,), np.int64)
        keys = _drain(self._keys, np.empty((len(index), bands), dtype=np.uint32))
        small = np.zeros((n, perms), dtype=np.uint8)  # rows by record index, for the lookups
        _drain(self._small, small, index)
        sets = _offsets(self._sets, index, n) if self.verify else None
        self._sets = []
        threshold = self.params.threshold

        def confirm(left: np.ndarray, right: np.ndarray) -> np.ndarray:
            return self._similarity(small, sets, left, right) >= threshold

        roots = lsh_components(keys, index, n, confirm)
        del keys
        rep = representatives(cluster_roots(roots, index), priority)
        dup = np.flatnonzero(rep != np.arange(n))
        similarity = np.ones(n)
        similarity[dup] = self._similarity(small, sets, dup, rep[dup])
        inside = np.zeros(n, dtype=bool)
        inside[index] = True
        return Clusters(rep, inside, similarity)

    @staticmethod
    def _similarity(
        small: np.ndarray,
        sets: tuple[np.ndarray, np.ndarray] | None,
        left: np.ndarray,
        right: np.ndarray,
    ) -> np.ndarray:
        """Estimated Jaccard of the pairs, or the exact one when the sets were kept."""
        if sets is None:
            return estimate(small, left, right)
        return jaccard(sets, sets, left, right)

    def set_benchmark(self, texts: list[str]) -> None:
        keys, small, empty, sets = self.sketch(texts)
        if self.verify:
            self._bench_sets = _offsets([sets], np.arange(len(texts)), len(texts))
        order = np.argsort(keys, axis=0, kind="stable")
        self._bench = (np.take_along_axis(keys, order, axis=0), order, small, empty)

    def against(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        assert self._bench is not None
        sorted_keys, order, bench_small, bench_empty = self._bench
        keys, small, empty, sets = self.sketch(texts)
        found: list[np.ndarray] = []
        for band in range(keys.shape[1]):
            column = sorted_keys[:, band]
            lo = np.searchsorted(column, keys[:, band], "left")
            hits = np.minimum(np.searchsorted(column, keys[:, band], "right") - lo, _BUCKET_CAP)
            hits[empty] = 0
            query = np.repeat(np.arange(len(texts)), hits)
            rank = np.arange(len(query)) - np.repeat(np.cumsum(hits) - hits, hits)
            match = order[np.repeat(lo, hits) + rank, band]
            found.append((query.astype(np.int64) << 32) | match)
        codes = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
        query, match = codes >> 32, codes & 0xFFFFFFFF
        useful = ~bench_empty[match]  # an empty benchmark text is like no other
        query, match = query[useful], match[useful]
        if self.verify:
            mine = _offsets([sets], np.arange(len(texts)), len(texts))
            scores = jaccard(mine, self._bench_sets, query, match)  # type: ignore[arg-type]
        else:
            scores = estimate((small, bench_small), query, match)
        ok = scores >= self.params.threshold
        return best_per_query(query[ok], match[ok], scores[ok], len(texts))

    def describe(self, score: float) -> str:
        kind = "Jaccard" if self.verify else "estimated Jaccard"
        return f"{kind} {score:.2f}"


def jaccard(
    left_sets: tuple[np.ndarray, np.ndarray],
    right_sets: tuple[np.ndarray, np.ndarray],
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """Exact Jaccard similarity of the pairs, from sorted distinct hashes and their offsets."""
    (lv, lo), (rv, ro) = left_sets, right_sets
    out = np.empty(len(left))
    for k, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = lv[lo[i] : lo[i + 1]], rv[ro[j] : ro[j + 1]]
        common = len(np.intersect1d(a, b, assume_unique=True))
        out[k] = common / (len(a) + len(b) - common) if len(a) + len(b) else 0.0
    return out


def _stack(chunks: list[np.ndarray], empty_shape: tuple[int, ...], dtype: type) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(empty_shape, dtype=dtype)


def _drain(chunks: list[np.ndarray], out: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Copy the chunks into `out` (into these rows, in order), freeing each once copied."""
    at = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        if rows is None:
            out[at : at + len(chunk)] = chunk
        else:
            out[rows[at : at + len(chunk)]] = chunk
        at += len(chunk)
    return out


def _distinct(hashes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingle hashes, sorted (so pairs intersect fast), and their counts."""
    owner = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((hashes, owner))
    values, owner = hashes[order], owner[order]
    keep = np.r_[True, (values[1:] != values[:-1]) | (owner[1:] != owner[:-1])]
    return values[keep], np.bincount(owner[keep], minlength=len(counts))


def _offsets(
    sets: list[tuple[np.ndarray, np.ndarray]], index: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """All kept sets in one array, and where each record's starts (by record index)."""
    values = _stack([v for v, _ in sets], (0,), np.uint64)
    counts = np.zeros(n, dtype=np.int64)
    counts[index] = _stack([c for _, c in sets], (0,), np.int64)
    return values, np.r_[0, np.cumsum(counts)]
