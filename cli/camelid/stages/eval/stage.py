"""The judge of `camelid eval`: for each prompt, A's answer against B's, in both orders.

It is score's pairwise judge (the `pairwise` pack, its schema and vote reading) over a record
made of the prompt and its two answers. A side wins a prompt only when both orders name it;
when the orders disagree, or both say tie, the prompt is a tie. A judgement that did not parse
is a reject (with the raw reply), never a made-up tie, so the win rate counts real votes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from camelid.records import LineageEntry, Outcome, Record, Reject, with_extras
from camelid.runtime.model import Reply, Request
from camelid.stages.eval.answers import SIDES, Pair, Pairs
from camelid.stages.score.pairwise import PairwiseJudge

STAGE = "eval"


@dataclass
class EvalJudge(PairwiseJudge):
    pairs: Pairs = field(default_factory=dict)
    names: tuple[str, str] = ("A", "B")  # what A and B are: models, or answer files
    answered: LineageEntry | None = None  # how the answers were written in this run, if they were
    name: str = STAGE
    outcomes: list[str] = field(default_factory=list)  # this run's, in the order judged
    lengths: list[tuple[int, int]] = field(default_factory=list)

    @property
    def lineage(self) -> LineageEntry:
        return with_extras(super().lineage, answers={"A": self.names[0], "B": self.names[1]})

    def requests(self, record: Record) -> list[Request] | Reject:
        pair = self.pairs.get(record.id, "no answers were looked up")
        if isinstance(pair, str):
            return Reject.of(STAGE, pair, record)
        return super().requests(self.paired(record, pair))

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        pair = self.pairs[record.id]
        assert isinstance(pair, Pair)
        judged = super().finish(self.paired(record, pair), replies)
        assert isinstance(judged, Record)
        [comparison] = judged.model_extra["comparisons"]
        votes = [vote_of(v) for v in comparison["votes"]]
        made = with_extras(judged, comparisons=None, outcome=None, votes=votes)
        if errors := [f"order {v['order']}: {v['error']}" for v in votes if "error" in v]:
            return Reject.of(STAGE, "the judge's reply did not parse (" + "; ".join(errors) + ")",
                             made)  # fmt: skip
        winner = comparison["winner"]
        outcome = "tie" if winner is None else SIDES[winner]
        self.outcomes.append(outcome)
        self.lengths.append((len(pair.a.text), len(pair.b.text)))
        return with_extras(made, outcome=outcome, votes=votes)

    def paired(self, prompt: Record, pair: Pair) -> Record:
        """The prompt with A's and B's answers as its two completions (A first), and the
        lineage entry of the answering when it happened in this run."""
        made = prompt.model_copy(update={"completions": [pair.a, pair.b]})
        return made.with_lineage(self.answered) if self.answered else made


def vote_of(vote: dict[str, Any]) -> dict[str, Any]:
    """One order's vote in the sides' terms: which was shown first ("AB": A first), what the
    judge wrote (A/B name positions as shown), and which side that favours."""
    shown = "".join(SIDES[i] for i in vote["shown"])
    out: dict[str, Any] = {"order": shown, "preferred": vote["preferred"]}
    if "winner" in vote:
        out["favours"] = SIDES[vote["winner"]]
    elif vote["preferred"] == "tie":
        out["favours"] = "tie"
    for key in ("rationale", "error", "raw"):
        if key in vote:
            out[key] = vote[key]
    return out


def read_outcome(record: Record) -> tuple[str, int, int] | None:
    """(outcome, length of A's answer, of B's) of a judgement written earlier (a resumed file)."""
    outcome = (record.model_extra or {}).get("outcome")
    completions = record.completions or []
    if outcome not in ("A", "B", "tie") or len(completions) != 2:
        return None
    return outcome, len(completions[0].text), len(completions[1].text)
