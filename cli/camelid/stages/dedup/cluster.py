"""From similar pairs to clusters and the record each cluster keeps.

Candidate pairs come from records that share a key in some band (LSH): in each band the keys are
sorted, and every record is paired with the few before it that share its key and with the first
record that has it. A bucket of k records thus gives about (window + 1) * k pairs rather than
k^2 / 2, so a run of thousands of copies stays linear; pairs the window misses are usually
found through another band or joined through a third record.

Clusters are the connected components of the confirmed pairs, so near-duplicates chain as they
do in datasketch- or datatrove-style deduplication. The union-find is vectorised (hook the larger
root under the smaller, then compress), and pairs are confirmed a slice at a time, skipping those
already in one cluster: memory holds one band's slice of candidates, never all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WINDOW = 8  # earlier records in the same bucket each record is compared with
Confirm = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (left, right) -> bool mask


def find(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The roots of x (pointer jumping; trees stay shallow as `lsh_components` compresses)."""
    root = parent[x]
    while True:
        up = parent[root]
        if np.array_equal(up, root):
            return root
        root = up


def union(parent: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    """Join the clusters of each pair; a root is always its cluster's smallest index."""
    while len(left):
        a, b = find(parent, left), find(parent, right)
        apart = a != b
        if not apart.any():
            return
        a, b, left, right = a[apart], b[apart], left[apart], right[apart]
        # Several pairs may hook the same root: the smallest wins, the others go round again.
        np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))


def compress(parent: np.ndarray) -> None:
    parent[:] = find(parent, np.arange(len(parent)))


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """For each of n records, the smallest index of its connected component."""
    parent = np.arange(n)
    union(parent, pairs[:, 0], pairs[:, 1])
    compress(parent)
    return parent


def lsh_components(
    keys: np.ndarray, index: np.ndarray, n: int, confirm: Confirm, window: int = WINDOW
) -> np.ndarray:
    """Components of the confirmed candidate pairs among the records `index` (ascending),
    whose band keys are the rows of `keys`; as `components`."""
    parent = np.arange(n)
    for band in range(keys.shape[1] if len(keys) > 1 else 0):
        order = np.argsort(keys[:, band], kind="stable")  # stable: equal keys stay in order
        column, who = keys[order, band], index[order]
        del order
        new_run = np.r_[True, column[1:] != column[:-1]]
        for d in range(1, window + 1):
            same = np.flatnonzero(column[d:] == column[:-d])
            if not len(same):
                break  # no bucket holds d + 1 records
            _join(parent, who[same], who[same + d], confirm)
        # Each record also meets the first of its bucket, however far back it is.
        starts = np.flatnonzero(new_run)
        first = starts[np.cumsum(new_run) - 1]
        far = np.flatnonzero(np.arange(len(who)) - first > window)
        _join(parent, who[first[far]], who[far], confirm)
        compress(parent)
    return parent


def _join(parent: np.ndarray, left: np.ndarray, right: np.ndarray, confirm: Confirm) -> None:
    if not len(left):
        return
    apart = find(parent, left) != find(parent, right)  # pairs already joined need no check
    left, right = left[apart], right[apart]
    ok = confirm(left, right)
    union(parent, left[ok], right[ok])


def representatives(roots: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """For each record, the record its cluster keeps: the highest priority, the first on ties.
    Records outside every cluster have root -1 and keep themselves."""
    n = len(roots)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(n)
    order = np.lexsort((index, -priority, roots))  # by cluster, best first
    firsts = np.r_[True, roots[order][1:] != roots[order][:-1]]
    best_of_run = order[np.flatnonzero(firsts)][np.cumsum(firsts) - 1]
    rep = np.empty(n, dtype=np.int64)
    rep[order] = best_of_run
    rep[roots < 0] = index[roots < 0]
    return rep


def cluster_roots(roots: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The roots, with -1 for records not among `members` (they take part in no cluster)."""
    inside = np.zeros(len(roots), dtype=bool)
    inside[members] = True
    return np.where(inside, roots, -1)


def best_per_query(
    query: np.ndarray, match: np.ndarray, score: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """For n queries, the best-scoring match (-1 when none) and its score; ties: lowest match."""
    best = np.full(n, -1, dtype=np.int64)
    best_score = np.zeros(n, dtype=np.float64)
    if len(query):
        order = np.lexsort((match, -score, query))
        first = np.r_[True, query[order][1:] != query[order][:-1]]
        pick = order[first]
        best[query[pick]] = match[pick]
        best_score[query[pick]] = score[pick]
    return best, best_score
