"""A pairwise judge: which of two answers serves the instruction better.

Judges favour positions, so every pair of a record's completions is judged in both orders, and a
preference counts only when the two orders agree; otherwise the pair is a tie. Each completion's
score (`scores.pairwise`) is its win rate against the others (a tie counts half), so `pairs`
and `filter --best-of` use it as they use any score; every comparison, with both votes and their
rationales, is kept on the record under `comparisons`. The audit compares the first answer with a
control (another task's answer): a judge that separates prefers the real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import orjson

from camelid.records import LineageEntry, Outcome, Record, Reject, with_extras
from camelid.runtime.model import PackStage, Reply, Request
from camelid.stages.score.audit import Audit, Control
from camelid.stages.score.verdicts import Verdict, answers_of

STAGE = "score"
CHOICES = ("A", "B", "tie")


def pairwise_schema(rationale_chars: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "rationale": {"type": "string", "maxLength": rationale_chars},
            "preferred": {"enum": list(CHOICES)},
        },
        "required": ["rationale", "preferred"],
        "additionalProperties": False,
    }


@dataclass
class PairwiseJudge(PackStage):
    controls: dict[str, list[Control]] = field(default_factory=dict)
    name: str = STAGE
    failed: int = 0  # votes that did not parse, over the run
    audit: Audit = field(default_factory=Audit)

    def __post_init__(self) -> None:
        rubric = self.pack.manifest.rubric
        assert rubric is not None and rubric.mode == "pairwise"
        [(self.aspect, spec)] = rubric.aspects.items()
        self.shaped = self.sampling.merged(
            json_schema=pairwise_schema(spec.rationale_chars),
            max_tokens=max(self.sampling.max_tokens, 4 * spec.rationale_chars + 40),
        )

    @property
    def lineage(self) -> LineageEntry:
        return with_extras(super().lineage, scoring="pairwise, both orders")

    def requests(self, record: Record) -> list[Request] | Reject:
        answers = answers_of(record)
        if len(answers) < 2:
            return Reject.of(STAGE, "nothing to compare: pairwise needs two completions", record)
        out = []
        for i, j in combinations(range(len(answers)), 2):
            out += self._both(record, answers[i], answers[j], (None, i, j))
        for control in self.controls.get(record.id, []):
            out += self._both(record, answers[0], control.answers[0], (control.kind, 0, -1))
        return out

    def _both(self, record: Record, a: str, b: str, pair: tuple) -> list[Request]:
        kind, i, j = pair
        key = f"{record.id}/pairwise/{kind or ''}{i}-{j}"
        return [
            Request(self.pack.render(record, answers=[a, b]), f"{key}/ab", self.shaped, (*pair, 0)),
            Request(self.pack.render(record, answers=[b, a]), f"{key}/ba", self.shaped, (*pair, 1)),
        ]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        votes: dict[tuple, list[dict[str, Any]]] = {}
        for reply in replies:
            kind, i, j, flipped = reply.request.note
            vote = self._vote(reply)
            shown = [j, i] if flipped else [i, j]
            if vote["preferred"] in ("A", "B"):
                vote["winner"] = shown[0] if vote["preferred"] == "A" else shown[1]
            vote["shown"] = shown
            votes.setdefault((kind, i, j), []).append(vote)
        count = len(answers_of(record))
        wins = [0.0] * count
        comparisons = []
        for (kind, i, j), pair_votes in votes.items():
            winners = {v.get("winner") for v in pair_votes}
            winner = winners.pop() if len(winners) == 1 else None  # the orders agree, or a tie
            if kind is not None:
                real = 1.0 if winner == i else 0.0 if winner == j else 0.5
                self.audit.add_pair(kind, Verdict(rating=real), Verdict(rating=1.0 - real))
                continue
            for side in (i, j):
                wins[side] += 1.0 if winner == side else 0.5 if winner is None else 0.0
            comparisons.append({"pair": [i, j], "winner": winner, "votes": pair_votes})
        return self._scored(record, [w / (count - 1) for w in wins], comparisons)

    def _vote(self, reply: Reply) -> dict[str, Any]:
        result = reply.result
        if result.error is not None:
            self.failed += 1
            return {"preferred": None, "error": result.error}
        gen = result.generations[0]
        try:
            value = orjson.loads(gen.text)
            if gen.truncated or value.get("preferred") not in CHOICES:
                raise ValueError("no preference")
            return {"preferred": value["preferred"], "rationale": value.get("rationale", "")}
        except (orjson.JSONDecodeError, ValueError, AttributeError):
            self.failed += 1
            return {"preferred": None, "error": "unparsable judgement", "raw": gen.text}

    def _scored(self, record: Record, rates: list[float], comparisons: list) -> Record:
        completions = [
            c.model_copy(update={"scores": {**(c.scores or {}), self.aspect: round(rate, 4)}})
            for c, rate in zip(record.completions or [], rates, strict=True)
        ]
        out = record.model_copy(update={"completions": completions})
        return with_extras(out, comparisons=comparisons).with_lineage(self.lineage)
