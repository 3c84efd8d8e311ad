"""Texts as arrays of 64-bit shingle hashes (word or character n-grams), a batch at a time.

MinHash and the benchmark n-gram check both start here. The per-token Python work is one dict
lookup (word -> stable 64-bit hash, cached); combining tokens into n-grams and mixing them is
vectorised over the whole batch. Hashes are stable across runs and machines (BLAKE2b of the word,
fixed mixing constants), so the same input always gives the same candidates and clusters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

import numpy as np

from camelid.text import unicode_tokenize

Unit = Literal["word", "char"]
UNITS: tuple[str, ...] = ("word", "char")

_M1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finalizer constants
_M2 = np.uint64(0x94D049BB133111EB)
# One odd multiplier per position in an n-gram, so "a b" and "b a" differ.
_POSITION = np.random.default_rng(0x5EED).integers(1, 2**63, 64, dtype=np.uint64) | np.uint64(1)
_CACHE_LIMIT = 500_000  # words (~70 MB); cleared when full, which keeps memory bounded


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a uint64 array: every input bit reaches every output
    bit, so a linear combination of token hashes becomes a well-spread n-gram hash."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


class Shingler:
    """Turns texts into n-gram hashes. Tokens are those of `novelty.unicode_tokenize` (case,
    punctuation and unicode form ignored; CJK characters one token each); `char` n-grams run over
    those tokens joined by single spaces."""

    def __init__(self, n: int = 1, unit: Unit = "word") -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; choose one of: {', '.join(UNITS)}")
        if not 1 <= n <= len(_POSITION):
            raise ValueError(f"n-gram size must be between 1 and {len(_POSITION)}, got {n}")
        self.n, self.unit = n, unit
        self._words: dict[str, int] = {}

    def _word(self, word: str) -> int:
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        if len(self._words) >= _CACHE_LIMIT:
            self._words.clear()
        self._words[word] = value
        return value

    def units(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(token values of all texts, concatenated as uint64; the count of each text's)."""
        if self.unit == "char":
            joined = [" ".join(unicode_tokenize(t)) for t in texts]
            lengths = np.fromiter(map(len, joined), dtype=np.int64, count=len(joined))
            codes = np.frombuffer("".join(joined).encode("utf-32-le"), dtype=np.uint32)
            return codes.astype(np.uint64), lengths
        get, new = self._words.get, self._word
        flat: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            tokens = unicode_tokenize(text)
            lengths[i] = len(tokens)
            flat += [get(t) or new(t) for t in tokens]
        return np.array(flat, dtype=np.uint64), lengths

    def hashes(self, texts: Sequence[str], whole: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(the n-gram hashes of all texts, concatenated; the count of each text's).

        A text with fewer than n tokens gives one hash of all its tokens when `whole` (MinHash:
        a short text still has a set), none otherwise (the benchmark n-gram check)."""
        values, lengths = self.units(texts)
        return ngrams(values, lengths, self.n, whole)

    def tokens(self, text: str) -> list[str]:
        """The units of one text as strings (to quote a matching n-gram)."""
        tokens = unicode_tokenize(text)
        return list(" ".join(tokens)) if self.unit == "char" else tokens


def ngrams(
    values: np.ndarray, lengths: np.ndarray, n: int, whole: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every run of n consecutive values inside each text (never across two texts)."""
    grams = np.maximum(lengths - n + 1, 0)
    if whole:
        grams = np.where(lengths > 0, np.maximum(grams, 1), 0)
    total = int(grams.sum())
    ends = np.cumsum(lengths)
    first = np.cumsum(grams) - grams
    # Start of every n-gram: its text's first value plus its rank within the text.
    starts = np.repeat(ends - lengths - first, grams) + np.arange(total, dtype=np.int64)
    stops = np.repeat(ends, grams)
    out = np.zeros(total, dtype=np.uint64)
    if total == 0:
        return out, grams
    last = len(values) - 1
    for j in range(n):
        at = starts + j
        inside = at < stops  # a short text's missing positions count as 0
        part = values[np.minimum(at, last)] * _POSITION[j]
        out += np.where(inside, part, np.uint64(0))
    return mix(out), grams
