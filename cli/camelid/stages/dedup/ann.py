"""Pairs of unit vectors with cosine similarity >= a threshold, without comparing all pairs.

An inverted-file index (IVF), as in FAISS: spherical k-means on a sample puts about sqrt(n)
centroids among the vectors; each vector lives in the cell of its nearest centroid, and is
compared only with the vectors of the `probes` cells nearest to it (one matrix product per
cell, in blocks). That is about n * probes * sqrt(n) dot products instead of n^2 / 2. Chosen
over random-hyperplane LSH because near-duplicate embeddings (cosine >= 0.9) almost always share
their nearest cells, while hyperplane bands would need hundreds of bits to keep the unrelated
pairs of a million sentences (cosine ~0.1-0.3 for MiniLM) from flooding the candidates.
Below `EXACT_UP_TO` vectors the blocks simply cover every pair: cheaper than training k-means.
"""

from __future__ import annotations

import numpy as np

EXACT_UP_TO = 4096
PROBES = 8
_BLOCK = 2048
_ITERATIONS = 10
_SAMPLE_PER_CELL = 64


def neighbour_pairs(
    vectors: np.ndarray, threshold: float, seed: int = 0, exact_up_to: int = EXACT_UP_TO
) -> np.ndarray:
    """Pairs (i < j) of rows with dot product >= threshold (rows are unit vectors)."""
    n = len(vectors)
    if n <= exact_up_to:
        everyone = np.arange(n)
        return _unique(_block_pairs(vectors, everyone, everyone, threshold))
    cells = int(np.sqrt(n))
    centroids = kmeans(vectors, cells, seed)
    probes = min(PROBES, cells)
    nearest = _top_cells(vectors, centroids, probes)  # (n, probes), nearest first
    home = nearest[:, 0]
    members = np.argsort(home, kind="stable")
    bounds = np.searchsorted(home[members], np.arange(cells + 1))
    # Queries of each cell: every vector that probes it.
    by_probe = np.argsort(nearest.ravel(), kind="stable")
    probe_bounds = np.searchsorted(nearest.ravel()[by_probe], np.arange(cells + 1))
    found = []
    for c in range(cells):
        inside = members[bounds[c] : bounds[c + 1]]
        queries = by_probe[probe_bounds[c] : probe_bounds[c + 1]] // probes
        if len(inside) and len(queries):
            found.append(_block_pairs(vectors, queries, inside, threshold))
    return _unique(np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64))


def kmeans(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Spherical k-means (cosine) on a sample: k unit centroids."""
    rng = np.random.default_rng(seed)
    n = len(vectors)
    sample = vectors[rng.choice(n, size=min(n, k * _SAMPLE_PER_CELL), replace=False)]
    centroids = sample[rng.choice(len(sample), size=k, replace=False)].astype(np.float32)
    for _ in range(_ITERATIONS):
        assign = _top_cells(sample, centroids, 1)[:, 0]
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0  # a centroid nobody chose keeps its place
        centroids[~empty] = sums[~empty] / norms[~empty]
    return centroids


def _top_cells(vectors: np.ndarray, centroids: np.ndarray, probes: int) -> np.ndarray:
    out = np.empty((len(vectors), probes), dtype=np.int64)
    for s in range(0, len(vectors), _BLOCK):
        sims = vectors[s : s + _BLOCK].astype(np.float32) @ centroids.T
        top = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[s : s + _BLOCK] = np.take_along_axis(top, order, axis=1)
    return out


def _block_pairs(
    vectors: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float
) -> np.ndarray:
    found = []
    for s in range(0, len(left), _BLOCK):
        rows = left[s : s + _BLOCK]
        a = vectors[rows].astype(np.float32)
        for t in range(0, len(right), _BLOCK):
            cols = right[t : t + _BLOCK]
            sims = a @ vectors[cols].astype(np.float32).T
            i, j = np.nonzero(sims >= threshold)
            i, j = rows[i], cols[j]
            other = i != j
            found.append(np.stack([np.minimum(i, j)[other], np.maximum(i, j)[other]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def _unique(pairs: np.ndarray) -> np.ndarray:
    codes = np.unique((pairs[:, 0].astype(np.int64) << 32) | pairs[:, 1])
    return np.stack([codes >> 32, codes & 0xFFFFFFFF], axis=1)
