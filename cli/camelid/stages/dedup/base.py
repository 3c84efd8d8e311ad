"""What every dedup method provides, and what it hands back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Clusters:
    """Per record (input order): the record its cluster keeps, whether it took part (records
    with no text or found in a benchmark do not), and its similarity to the one kept."""

    rep: np.ndarray  # int64
    inside: np.ndarray  # bool
    similarity: np.ndarray  # float64; 1.0 for a kept record

    def duplicates(self) -> int:
        return int((self.rep != np.arange(len(self.rep))).sum())

    def groups(self) -> int:
        """Clusters of two records or more."""
        dup = self.rep != np.arange(len(self.rep))
        return len(np.unique(self.rep[dup]))


class Method(Protocol):
    name: str

    def add(self, texts: list[str], index: np.ndarray) -> None:
        """Take in a batch of records (their texts and record indices, ascending)."""

    def cluster(self, n: int, priority: np.ndarray) -> Clusters:
        """After the last batch: the clusters of the n records read."""

    def set_benchmark(self, texts: list[str]) -> None:
        """Index benchmark texts for `against`."""

    def against(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """For each text, its most similar benchmark text above the threshold (-1: none) and the
        similarity."""

    def describe(self, score: float) -> str:
        """The similarity as a reason states it: "estimated Jaccard 0.83"."""
