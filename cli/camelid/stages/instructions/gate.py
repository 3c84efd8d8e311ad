"""The gate every generated instruction passes: the quality filters, then novelty.

Shared by `self-instruct` and `redteam`. The filters (filters.py) are pure and run where the
candidates are read; novelty is a stage of its own, since it keeps state: the pool holds the
seeds and every instruction kept so far, and a candidate is dropped when its ROUGE-L F1
against any of them exceeds the threshold (Self-Instruct's 0.7). A kept one records its nearest
pool instructions the way Self-Instruct did (`most_similar_instructions`,
`avg_similarity_score`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from camelid.novelty import NoveltyPool
from camelid.records import LineageEntry, Outcome, Record, Reject, with_extras
from camelid.stages.instructions.filters import Variant, instruction_reject
from camelid.text import TokenizerName

_SPACES = re.compile(r"\s+")
NOVELTY_FIELDS = ("most_similar_instructions", "avg_similarity_score")


@dataclass(frozen=True)
class GateSettings:
    variant: Variant = "self-instruct"
    min_words: int = 4
    max_words: int = 150
    extra_blacklist: tuple[str, ...] = ()
    threshold: float = 0.7
    tokenizer: TokenizerName = "unicode"
    top_k: int = 10  # nearest pool instructions stored on each kept record

    def reject(self, text: str, truncated: bool = False) -> str | None:
        """Why the filters drop this instruction (None: it may go on to the novelty check)."""
        return instruction_reject(
            text,
            truncated=truncated,
            variant=self.variant,
            min_words=self.min_words,
            max_words=self.max_words,
            extra_blacklist=self.extra_blacklist,
        )


def clean_instruction(text: str) -> str:
    """One line, trimmed: how Self-Instruct and Alpaca normalise a listed task."""
    return _SPACES.sub(" ", text).strip()


class NoveltyGate:
    """A stage: each candidate kept (with its novelty fields, and from then on in the pool) or
    dropped as too similar to a pool instruction. Candidates are decided in order."""

    lineage: LineageEntry | None = None

    def __init__(self, stage: str, settings: GateSettings, pool: Iterable[str] = ()) -> None:
        self.name = stage
        self.settings = settings
        self.pool = NoveltyPool(
            pool, threshold=settings.threshold, tokenizer=settings.tokenizer, top_k=settings.top_k
        )
        self.added: list[str] = []  # admitted since the last take_added()

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for record in batch:
            verdict = self.admit(record.instruction or "")
            if isinstance(verdict, str):
                out.append(Reject(self.name, verdict, record=raw_task(record)))
            else:
                out.append(with_extras(record, **verdict))
        return out

    def admit(self, text: str) -> dict[str, Any] | str:
        """The novelty fields for a kept instruction (now in the pool), or why it is dropped."""
        # The decision uses the fast exact check; the pool-wide average (several times dearer)
        # is computed only for the instructions that are kept.
        result = self.pool.check(text)
        if not result.novel:
            nearest = result.top[0]
            return (
                f"too similar to a pool instruction (ROUGE-L {nearest.score:.3f} > "
                f"{self.settings.threshold}): {nearest.text!r}"
            )
        result = self.pool.check(text, avg=True)
        self.pool.add(text)
        self.added.append(text)
        return {
            "most_similar_instructions": {m.text: round(m.score, 4) for m in result.top},
            "avg_similarity_score": round(result.avg_score or 0.0, 6),
        }

    def take_added(self) -> list[str]:
        added, self.added = self.added, []
        return added


def novelty_of(record: Record) -> dict[str, Any]:
    extra = record.model_extra or {}
    return {name: extra[name] for name in NOVELTY_FIELDS if name in extra}


def raw_task(record: Record) -> dict[str, Any]:
    """A candidate as --rejects shows it: its text fields and where it came from."""
    data = record.to_dict()
    keep = ("instruction", "input", "output", "question_type", "topic")
    return {k: data[k] for k in keep if data.get(k)}
