"""LLM-as-judge: rate each record's answer (or every completion) with a rubric pack.

Every judgement is decoded under a JSON schema (bounded rationale, enum rating), so replies
parse; one that still does not (cut off at max_tokens) leaves the score null with the raw reply
kept under `judge_errors`, never a made-up default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from camelid.packs import Aspect, Pack
from camelid.records import Outcome, Record, Reject, with_extras
from camelid.runtime.model import PackStage, Reply, Request

STAGE = "score"


def judgement_schema(aspect: Aspect, count: int | None) -> dict[str, Any]:
    """The reply's shape: rationale first (reasoning before the score), then the rating.
    With `count`, an object holding exactly that many judgements, one per answer in order."""
    props: dict[str, Any] = {"rationale": {"type": "string", "maxLength": aspect.rationale_chars}}
    if aspect.types:
        props["types"] = {"type": "array", "items": {"enum": aspect.types}, "maxItems": 3}
    ratings: list[Any] = [int(x) if float(x).is_integer() else x for x in aspect.scale]
    props["rating"] = {"enum": ratings + (["N/A"] if aspect.allow_na else [])}
    one = {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
    if count is None:
        return one
    return {
        "type": "object",
        "properties": {
            "answers": {"type": "array", "items": one, "minItems": count, "maxItems": count}
        },
        "required": ["answers"],
        "additionalProperties": False,
    }


def reply_budget(aspect: Aspect, count: int) -> int:
    """Tokens for the longest reply the schema allows. A token holds at least one byte, and a
    character of the rationale can take four (seen: a degenerate run of '⬏' ran past twice the
    characters), so: four per character, plus the longest labels and the JSON around them."""
    labels = sum(sorted((len(t) + 3 for t in aspect.types), reverse=True)[:3])
    return (4 * aspect.rationale_chars + labels + 60) * count + 16


@dataclass
class Job:
    """One request: one aspect of some answers of one record."""

    aspect: str
    answers: list[int]  # indexes into the record's answers
    together: bool


@dataclass
class Verdict:
    rating: float | None = None
    rationale: str | None = None
    types: list[str] = field(default_factory=list)
    error: str | None = None
    raw: str | None = None


def answers_of(record: Record) -> list[str]:
    if record.completions:
        return [c.text for c in record.completions]
    return [record.output] if record.output else []


def plan(record: Record, pack: Pack, separately: bool) -> list[Job]:
    """One job per aspect (all answers together when the rubric says so), else per answer too."""
    rubric = pack.manifest.rubric
    assert rubric is not None
    count = len(answers_of(record))
    jobs = []
    for aspect in rubric.aspects:
        if rubric.together and not separately and count > 1:
            jobs.append(Job(aspect, list(range(count)), together=True))
        else:
            jobs.extend(Job(aspect, [a], together=False) for a in range(count))
    return jobs


def read_verdicts(job: Job, text: str, truncated: bool) -> list[Verdict]:
    def failed(reason: str) -> list[Verdict]:
        return [Verdict(error=reason, raw=text) for _ in job.answers]

    if truncated:
        return failed("judgement cut off at max_tokens")
    try:
        value = orjson.loads(text)
        items = value["answers"] if job.together else [value]
        if len(items) != len(job.answers):
            return failed(f"expected {len(job.answers)} judgements, got {len(items)}")
        return [
            Verdict(
                rating=None if item["rating"] == "N/A" else float(item["rating"]),
                rationale=item["rationale"],
                types=list(item.get("types", [])),
            )
            for item in items
        ]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        return failed(f"unparsable judgement: {type(exc).__name__}: {str(exc)[:80]}")


@dataclass
class Judge(PackStage):
    """Each record's answer (or every completion) rated on every aspect of the rubric."""

    separately: bool = False
    name: str = STAGE
    failed: int = 0  # judgements that did not parse, over the run

    def __post_init__(self) -> None:
        if self.pack.manifest.rubric is None:
            raise ValueError(f"pack {self.pack.name} has no rubric")
        self.aspects = self.pack.manifest.rubric.aspects

    def requests(self, record: Record) -> list[Request] | Reject:
        if not answers_of(record):
            return Reject.of(STAGE, "nothing to score: no output or completions", record)
        out = []
        for job in plan(record, self.pack, self.separately):
            aspect = self.aspects[job.aspect]
            count = len(job.answers) if job.together else None
            shaped = self.sampling.merged(
                json_schema=judgement_schema(aspect, count),
                max_tokens=max(self.sampling.max_tokens, reply_budget(aspect, count or 1)),
            )
            prompt = _render(self.pack, record, job, job.aspect, aspect)
            out.append(Request(prompt, f"{record.id}/{job.aspect}/{job.answers}", shaped, job))
        return out

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        verdicts: dict[tuple[str, int], Verdict] = {}
        for reply in replies:
            job, result = reply.request.note, reply.result
            if result.error is not None:
                found = [Verdict(error=result.error) for _ in job.answers]
            else:
                gen = result.generations[0]
                found = read_verdicts(job, gen.text, gen.truncated)
            for answer, verdict in zip(job.answers, found, strict=True):
                verdicts[(job.aspect, answer)] = verdict
        scored = apply_verdicts(record, self.aspects, verdicts)
        self.failed += count_failures(scored)
        return scored.with_lineage(self.lineage)


def record_prompts(record: Record, pack: Pack, separately: bool = False) -> list[Any]:
    """Every prompt the judge is sent for one record (what `packs render` shows)."""
    rubric = pack.manifest.rubric
    assert rubric is not None
    return [
        _render(pack, record, job, job.aspect, rubric.aspects[job.aspect])
        for job in plan(record, pack, separately)
    ]


def _render(pack: Pack, record: Record, job: Job, name: str, aspect: Aspect) -> Any:
    texts = answers_of(record)
    chosen = [texts[a] for a in job.answers]
    return pack.render(
        record,
        answer=chosen[0],
        answers=chosen,
        aspect=name,
        types=aspect.types,
        scale=aspect.scale,
    )


def apply_verdicts(
    record: Record, aspects: dict[str, Aspect], verdicts: dict[tuple[str, int], Verdict]
) -> Record:
    """Write ratings into `scores`, rationales into `rationales` (of the record or of each
    completion), labels into `types`, and failures into `judge_errors`."""
    targets: list[Any] = record.completions or [record]
    updated = []
    for a, target in enumerate(targets):
        extra = target.__pydantic_extra__ or {}
        scores, rationales = dict(target.scores or {}), dict(target.rationales or {})
        types, errors = dict(extra.get("types") or {}), dict(extra.get("judge_errors") or {})
        for name in aspects:
            verdict = verdicts[(name, a)]
            scores[name] = verdict.rating
            rationales.pop(name, None)
            types.pop(name, None)
            errors.pop(name, None)  # a judgement from an earlier run no longer applies
            if verdict.rationale is not None:
                rationales[name] = verdict.rationale
            if verdict.types:
                types[name] = verdict.types
            if verdict.error:
                errors[name] = {"error": verdict.error, "raw": verdict.raw}
        target = target.model_copy(update={"scores": scores, "rationales": rationales})
        updated.append(with_extras(target, types=types or None, judge_errors=errors or None))
    if record.completions:
        return record.model_copy(update={"completions": updated})
    return updated[0]


def count_failures(record: Record) -> int:
    targets: list[Any] = record.completions or [record]
    return sum(len((t.__pydantic_extra__ or {}).get("judge_errors", {})) for t in targets)
