"""`filter --top`: keep the best N records, or the best N percent, by a score (relative
selection, beside the absolute thresholds). A judge's scale means little on its own; its order
often means more (LIMA and AlpaGasus kept a top share). Records without the score rank last;
equal scores keep input order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from camelid.fields import BadField
from camelid.stages.pairs import fmt, mean_score


@dataclass(frozen=True)
class Top:
    count: float  # records, or a percentage with percent=True
    percent: bool = False
    aspect: str | None = None  # None: the mean of the record's scores

    @classmethod
    def parse(cls, spec: str, aspect: str | None) -> Top:
        """'100' or '50%'; ValueError with the reason for anything else."""
        text = spec.strip()
        percent = text.endswith("%")
        try:
            value = float(text.removesuffix("%"))
        except ValueError:
            raise ValueError(f"{spec!r} is not a count or a percentage (e.g. 100 or 50%)") from None
        if value <= 0 or (percent and value > 100) or (not percent and not value.is_integer()):
            raise ValueError(f"{spec!r}: give a whole count above 0, or a percentage in (0, 100]")
        return cls(value, percent, aspect)

    def describe(self) -> str:
        share = f"{fmt(self.count)}%" if self.percent else f"{int(self.count)}"
        return f"top {share} by {self.aspect or 'mean score'}"

    def score(self, record: dict[str, Any]) -> float | None:
        scores = record.get("scores")
        if self.aspect is None:
            return mean_score(scores, None)
        if scores is None:
            return None
        if not isinstance(scores, dict):
            raise BadField("scores", "an object", scores)
        value = scores.get(self.aspect)
        if value is not None and type(value) not in (int, float):
            raise BadField(f"scores.{self.aspect}", "a number", value)
        return value

    def keep(self, scored: list[tuple[float | None, int]]) -> tuple[set[int], float | None]:
        """Of (score, index) pairs, the indexes kept, and the lowest score kept."""
        wanted = math.ceil(len(scored) * self.count / 100) if self.percent else int(self.count)
        ranked = sorted(scored, key=lambda pair: (pair[0] is None, -(pair[0] or 0.0), pair[1]))
        chosen = ranked[:wanted]
        floor = min((s for s, _ in chosen if s is not None), default=None)
        return {i for _, i in chosen}, floor
