"""`rouge`: Self-Instruct's criterion, a record is a duplicate when its ROUGE-L F1 against a
record already kept is above the threshold (0.7). It shares `novelty.NoveltyPool` with
`self-instruct`, so the decisions are exactly rouge_score's, at a fraction of its cost.

Greedy, as in Self-Instruct: records are taken best first (input order with --keep first), and
each is checked against the ones kept so far; its cluster is that of the kept record it matched
best. The pool holds every kept text, so this method keeps texts in memory; use minhash for
millions of records.
"""

from __future__ import annotations

import numpy as np

from camelid.novelty import NoveltyPool
from camelid.stages.dedup.base import Clusters
from camelid.text import TokenizerName


class RougeMethod:
    name = "rouge"

    def __init__(self, threshold: float = 0.7, tokenizer: TokenizerName = "unicode") -> None:
        self.threshold, self.tokenizer = threshold, tokenizer
        self._texts: list[str] = []
        self._index: list[np.ndarray] = []
        self._benchmark: NoveltyPool | None = None

    def add(self, texts: list[str], index: np.ndarray) -> None:
        self._texts += texts
        self._index.append(index)

    def cluster(self, n: int, priority: np.ndarray) -> Clusters:
        index = np.concatenate(self._index) if self._index else np.zeros(0, dtype=np.int64)
        rep, similarity = np.arange(n), np.ones(n)
        inside = np.zeros(n, dtype=bool)
        inside[index] = True
        pool = NoveltyPool(threshold=self.threshold, tokenizer=self.tokenizer, top_k=1)
        kept: list[int] = []  # record index of each pool entry
        # Best priority first, input order on ties (a stable sort of the negated priority).
        for k in np.argsort(-priority[index], kind="stable").tolist():
            result = pool.check_and_add(self._texts[k])
            if result.novel:
                kept.append(int(index[k]))
            else:
                rep[index[k]] = kept[result.top[0].index]
                similarity[index[k]] = result.max_score
        self._texts = []
        return Clusters(rep, inside, similarity)

    def set_benchmark(self, texts: list[str]) -> None:
        self._benchmark = NoveltyPool(
            texts, threshold=self.threshold, tokenizer=self.tokenizer, top_k=1
        )

    def against(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        assert self._benchmark is not None
        match, score = np.full(len(texts), -1, dtype=np.int64), np.zeros(len(texts))
        for k, text in enumerate(texts):
            result = self._benchmark.check(text)
            if not result.novel:
                match[k], score[k] = result.top[0].index, result.max_score
        return match, score

    def describe(self, score: float) -> str:
        return f"ROUGE-L F1 {score:.2f} > {self.threshold:g}"
