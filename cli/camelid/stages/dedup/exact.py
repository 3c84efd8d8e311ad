"""`exact`: records whose normalized texts are equal. Normalized means NFKC, case-folded,
punctuation dropped and whitespace collapsed (the tokens of `novelty.unicode_tokenize`, joined by
single spaces); each text is kept as an 8-byte BLAKE2b hash, 8 bytes a record."""

from __future__ import annotations

import hashlib

import numpy as np

from camelid.stages.dedup.base import Clusters
from camelid.stages.dedup.cluster import representatives
from camelid.text import unicode_tokenize


def normalized_hash(text: str) -> int | None:
    """The hash of the normalized text; None when nothing is left (only punctuation)."""
    canonical = " ".join(unicode_tokenize(text)).encode()
    if not canonical:
        return None
    return int.from_bytes(hashlib.blake2b(canonical, digest_size=8).digest(), "little", signed=True)


class ExactMethod:
    name = "exact"

    def __init__(self) -> None:
        self._hashes: list[int] = []
        self._index: list[np.ndarray] = []
        self._benchmark: dict[int, int] = {}

    def sketch(self, texts: list[str]) -> list[int | None]:
        """Each text's normalized hash (see `MinHashMethod.sketch`)."""
        return [normalized_hash(t) for t in texts]

    def add(self, texts: list[str], index: np.ndarray) -> None:
        self.add_sketch(self.sketch(texts), index)

    def add_sketch(self, hashes: list[int | None], index: np.ndarray) -> None:
        self._hashes += [h for h in hashes if h is not None]
        self._index.append(index[np.array([h is not None for h in hashes], dtype=bool)])

    def cluster(self, n: int, priority: np.ndarray) -> Clusters:
        hashes = np.array(self._hashes, dtype=np.int64)
        index = np.concatenate(self._index) if self._index else np.zeros(0, dtype=np.int64)
        self._hashes = []
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        roots = np.full(n, -1, dtype=np.int64)
        roots[index] = index[first[inverse]]
        rep = representatives(roots, priority)
        inside = roots >= 0
        return Clusters(rep, inside, np.ones(n))

    def set_benchmark(self, texts: list[str]) -> None:
        for i, text in enumerate(texts):
            key = normalized_hash(text)
            if key is not None:
                self._benchmark.setdefault(key, i)

    def against(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        get = self._benchmark.get
        match = np.array([get(normalized_hash(t), -1) for t in texts], dtype=np.int64)  # type: ignore[arg-type]
        return match, (match >= 0).astype(np.float64)

    def describe(self, score: float) -> str:
        return "same normalized text"
