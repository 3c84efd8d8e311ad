"""The gate every generated instruction passes: the quality filters, then novelty.

Shared by `self-instruct` and `redteam`. The pool holds the seeds and every instruction kept so
far; a candidate is dropped when its ROUGE-L F1 against any of them exceeds the threshold
(Self-Instruct's 0.7). A kept one records its nearest pool instructions the way Self-Instruct
did (`most_similar_instructions`, `avg_similarity_score`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from camelid.novelty import NoveltyPool, TokenizerName
from camelid.stages.instruction_filters import Variant, instruction_reject

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class GateSettings:
    variant: Variant = "self-instruct"
    min_words: int = 4
    max_words: int = 150
    extra_blacklist: tuple[str, ...] = ()
    threshold: float = 0.7
    tokenizer: TokenizerName = "unicode"
    top_k: int = 10  # nearest pool instructions stored on each kept record


def clean_instruction(text: str) -> str:
    """One line, trimmed: how Self-Instruct and Alpaca normalise a listed task."""
    return _SPACES.sub(" ", text).strip()


class InstructionGate:
    def __init__(self, settings: GateSettings, pool: Iterable[str] = ()) -> None:
        self.settings = settings
        self.pool = NoveltyPool(
            pool, threshold=settings.threshold, tokenizer=settings.tokenizer, top_k=settings.top_k
        )

    def admit(self, text: str, truncated: bool = False) -> dict[str, Any] | str:
        """The novelty fields for a kept instruction (now in the pool), or why it is dropped."""
        s = self.settings
        reason = instruction_reject(
            text,
            truncated=truncated,
            variant=s.variant,
            min_words=s.min_words,
            max_words=s.max_words,
            extra_blacklist=s.extra_blacklist,
        )
        if reason:
            return reason
        # The decision uses the fast exact check; the pool-wide average (several times dearer)
        # is computed only for the instructions that are kept.
        result = self.pool.check(text)
        if not result.novel:
            nearest = result.top[0]
            return (
                f"too similar to a pool instruction (ROUGE-L {nearest.score:.3f} > "
                f"{s.threshold}): {nearest.text!r}"
            )
        result = self.pool.check(text, avg=True)
        self.pool.add(text)
        return {
            "most_similar_instructions": {m.text: round(m.score, 4) for m in result.top},
            "avg_similarity_score": round(result.avg_score or 0.0, 6),
        }
