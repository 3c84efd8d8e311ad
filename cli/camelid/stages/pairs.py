"""Preference pairs from scored completions (UltraFeedback binarization), and best-of-n selection.

The helpers read plain mappings, so `filter --best-of` shares them on raw dicts while `pairs`
uses them on validated Records.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from camelid.fields import BadField
from camelid.records import Completion, LineageEntry, Outcome, Record, Reject

REJECTED_CHOICES = ("random", "worst")


def fmt(value: float) -> str:
    """Numbers in reasons as people write them: 4, 4.5, 3.33333."""
    return f"{value:g}"


def mean_score(scores: Any, aspects: Sequence[str] | None, path: str = "scores") -> float | None:
    """Mean of the non-null scores of `aspects` (all present when None); None when there are none."""
    if scores is None:
        return None
    if not isinstance(scores, Mapping):
        raise BadField(path, "an object", scores)
    values = []
    for aspect in scores if aspects is None else aspects:
        value = scores.get(aspect)
        if value is None:
            continue
        if type(value) not in (int, float):
            raise BadField(f"{path}.{aspect}", "a number", value)
        values.append(value)
    return sum(values) / len(values) if values else None


def scored(completions: Any, aspects: Sequence[str] | None) -> list[tuple[float, int]]:
    """(mean score, index) of each completion with at least one score; all-null ones left out."""
    if completions is None:
        return []
    if not isinstance(completions, list):
        raise BadField("completions", "an array", completions)
    out = []
    for i, completion in enumerate(completions):
        if isinstance(completion, Mapping):
            scores = completion.get("scores")
        elif isinstance(completion, Completion):
            scores = completion.scores
        else:
            raise BadField(f"completions.{i}", "an object", completion)
        score = mean_score(scores, aspects, f"completions.{i}.scores")
        if score is not None:
            out.append((score, i))
    return out


def best_of(record: dict[str, Any], aspect: str | None) -> str | None:
    """Llama-2 rejection sampling, in place: the best-scored completion becomes `output`.

    Returns the reason when the record has no scored completion. The first best wins ties.
    """
    ranked = scored(record.get("completions"), None if aspect is None else [aspect])
    if not ranked:
        return f"no completion scored on {aspect}" if aspect else "no scored completions"
    best = max(ranked, key=lambda pair: pair[0])[1]
    chosen = record.pop("completions")[best]
    if not isinstance(chosen.get("text"), str):
        raise BadField(f"completions.{best}.text", "a string", chosen.get("text"))
    record["output"] = chosen["text"]
    record["scores"] = chosen.get("scores")
    record.pop("rationales", None)  # the old ones judged a different answer
    if chosen.get("rationales"):
        record["rationales"] = chosen["rationales"]
    for key in ("system", "system_message"):  # the system message that produced this answer
        if chosen.get(key):
            record[key] = chosen[key]
    entry = {"stage": "filter", "best_of": aspect or "mean", "candidates": len(ranked)}
    if chosen.get("model"):
        entry["model"] = chosen["model"]
    record["lineage"] = [*(record.get("lineage") or []), entry]
    return None


@dataclass(frozen=True)
class PairOptions:
    aspects: tuple[str, ...] | None = None  # None: every aspect a completion has
    rejected: str = "random"
    min_margin: float = 0.0
    seed: int = 0

    def lineage(self) -> LineageEntry:
        settings: dict[str, Any] = {"rejected": self.rejected, "min_margin": self.min_margin}
        if self.aspects is not None:
            settings["aspects"] = list(self.aspects)
        seed = self.seed if self.rejected == "random" else None
        return LineageEntry(stage="pairs", seed=seed, **settings)


def make_pair(record: Record, options: PairOptions) -> Record | str:
    """The preference record for one record, or the reason there is none."""
    ranked = scored(record.completions, options.aspects)
    if len(ranked) < 2:
        return f"need 2 scored completions, got {len(ranked)}"
    best = max(ranked, key=lambda pair: pair[0])
    others = [pair for pair in ranked if pair[1] != best[1]]
    if options.rejected == "worst":
        worse = min(others, key=lambda pair: pair[0])
    else:
        # Seeded by the record's id, not its position: the same pick in any order or shard.
        worse = random.Random(f"{options.seed}:{record.id}").choice(others)
    margin = best[0] - worse[0]
    if margin == 0:
        return f"tie: chosen and rejected both score {fmt(best[0])}"
    if margin < options.min_margin:
        return f"margin {fmt(margin)} < {fmt(options.min_margin)}"
    chosen, rejected = record.completions[best[1]], record.completions[worse[1]]  # type: ignore[index]
    update = {
        "chosen": chosen.text,
        "rejected": rejected.text,
        "completions": None,
        "chosen_score": best[0],
        "rejected_score": worse[0],
    }
    update |= {"chosen_model": chosen.model} if chosen.model else {}
    update |= {"rejected_model": rejected.model} if rejected.model else {}
    return record.model_copy(update=update).with_lineage(options.lineage())


@dataclass(frozen=True)
class Pairs:
    """A stage: each record its preference pair, or a reject saying why it has none."""

    options: PairOptions
    name: str = "pairs"

    @property
    def lineage(self) -> LineageEntry:
        return self.options.lineage()

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for record in batch:
            result = make_pair(record, self.options)
            out.append(Reject.of(self.name, result, record) if isinstance(result, str) else result)
        return out
