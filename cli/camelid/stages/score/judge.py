"""LLM-as-judge: rate each record's answer (or every completion) with a rubric pack.

Every judgement is decoded under a JSON schema (bounded rationale, enum rating), so replies
parse; one that still does not (cut off at max_tokens) leaves the score null with the raw reply
kept under `judge_errors`, never a made-up default.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from camelid.packs import Aspect, Pack
from camelid.records import LineageEntry, Outcome, Record, Reject, with_extras
from camelid.runtime.model import PackStage, Reply, Request
from camelid.stages.score.audit import Audit, Control
from camelid.stages.score.expected import expected_ratings
from camelid.stages.score.verdicts import (
    Job,
    Verdict,
    answers_of,
    apply_verdicts,
    count_failures,
    judgement_schema,
    plan,
    read_verdicts,
    reply_budget,
)

STAGE = "score"
TOP_TOKENS = 20  # log-probabilities asked for at each position of a judgement


SCORINGS = ("expected", "sampled")


@dataclass
class Judge(PackStage):
    """Each record's answer (or every completion) rated on every aspect of the rubric.

    scoring "expected": the score is the expected rating under the judge's probabilities (the
    written rating kept in `ratings`); "sampled": the rating it wrote. Completions rated
    together are shown in an order shuffled per record (seeded) and mapped back, since judges
    favour positions. `controls`: known-bad answers for the audit (audit.py), judged beside the
    real ones and never written out."""

    separately: bool = False
    scoring: str = "sampled"
    controls: dict[str, list[Control]] = field(default_factory=dict)
    name: str = STAGE
    failed: int = 0  # judgements that did not parse, over the run
    audit: Audit = field(default_factory=Audit)

    def __post_init__(self) -> None:
        if self.pack.manifest.rubric is None:
            raise ValueError(f"pack {self.pack.name} has no rubric")
        self.aspects = self.pack.manifest.rubric.aspects
        self.audit.expected = self.expected

    @property
    def expected(self) -> bool:
        return self.scoring == "expected"

    @property
    def lineage(self) -> LineageEntry:
        entry = super().lineage
        together = self.pack.manifest.rubric.together and not self.separately  # type: ignore[union-attr]
        return with_extras(entry, scoring=self.scoring, shuffled=True if together else None)

    def requests(self, record: Record) -> list[Request] | Reject:
        if not answers_of(record):
            return Reject.of(STAGE, "nothing to score: no output or completions", record)
        out = self._requests(record, answers_of(record), None)
        for control in self.controls.get(record.id, []):
            out += self._requests(record, control.answers, control.kind)
        return out

    def _requests(self, record: Record, answers: list[str], kind: str | None) -> list[Request]:
        out = []
        for job in plan(record, self.pack, self.separately):
            aspect = self.aspects[job.aspect]
            count = len(job.answers) if job.together else None
            shaped = self.sampling.merged(
                json_schema=judgement_schema(aspect, count),
                max_tokens=max(self.sampling.max_tokens, reply_budget(aspect, count or 1)),
                logprobs=TOP_TOKENS if self.expected else None,
            )
            shown = self._order(record, job)
            prompt = _render(self.pack, record, [answers[i] for i in shown], job.aspect, aspect)
            key = f"{record.id}/{job.aspect}/{job.answers}" + (f"/{kind}" if kind else "")
            out.append(Request(prompt, key, shaped, (job, shown, kind)))
        return out

    def _order(self, record: Record, job: Job) -> list[int]:
        """The answers as the judge sees them: shuffled (seeded by record) when together."""
        shown = list(job.answers)
        if job.together:
            random.Random(f"{self.sampling.seed}:{record.id}:order").shuffle(shown)
        return shown

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        found: dict[str | None, dict[tuple[str, int], Verdict]] = {}
        for reply in replies:
            (job, shown, kind), result = reply.request.note, reply.result
            aspect = self.aspects[job.aspect]
            if result.error is not None:
                verdicts = [Verdict(error=result.error) for _ in shown]
            else:
                gen = result.generations[0]
                expected = expected_ratings(gen.logprobs, aspect.scale)
                verdicts = read_verdicts(job, gen.text, gen.truncated, expected)
            for answer, verdict in zip(shown, verdicts, strict=True):
                found.setdefault(kind, {})[(job.aspect, answer)] = verdict
        real = found.get(None, {})
        self._measure(record, real, found)
        scored = apply_verdicts(record, self.aspects, real, self.expected)
        self.failed += count_failures(scored)
        return scored.with_lineage(self.lineage)

    def _measure(self, record: Record, real: dict, found: dict) -> None:
        texts = answers_of(record)
        for (_, answer), verdict in real.items():
            self.audit.add_length(texts[answer], verdict)
        for kind, controls in found.items():
            for key, control in controls.items() if kind else []:
                self.audit.add_pair(kind, real[key], control)


def record_prompts(record: Record, pack: Pack, separately: bool = False) -> list[Any]:
    """Every prompt the judge is sent for one record, answers in their own order (what
    `packs render` shows; `score` shuffles answers it rates together)."""
    rubric = pack.manifest.rubric
    assert rubric is not None
    texts = answers_of(record)
    return [
        _render(
            pack, record, [texts[a] for a in job.answers], job.aspect, rubric.aspects[job.aspect]
        )  # fmt: skip
        for job in plan(record, pack, separately)
    ]


def _render(pack: Pack, record: Record, chosen: list[str], name: str, aspect: Aspect) -> Any:
    return pack.render(
        record,
        answer=chosen[0],
        answers=chosen,
        aspect=name,
        types=aspect.types,
        scale=aspect.scale,
    )
