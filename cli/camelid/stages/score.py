"""LLM-as-judge: rate each record's answer (or every completion) with a rubric pack.

Every judgement is decoded under a JSON schema (bounded rationale, enum rating), so replies
parse; one that still does not (cut off at max_tokens) leaves the score null with the raw reply
kept under `judge_errors`, never a made-up default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from camelid.engines.base import Engine, record_seed
from camelid.packs import Aspect, Pack
from camelid.pipeline import Reject
from camelid.records import Record, with_extras
from camelid.sampling import Sampling
from camelid.stages.generate import batched


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

    record: int
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


def plan(records: list[Record], pack: Pack, separately: bool) -> list[Job]:
    rubric = pack.manifest.rubric
    assert rubric is not None
    jobs = []
    for r, record in enumerate(records):
        count = len(answers_of(record))
        for aspect in rubric.aspects:
            if rubric.together and not separately and count > 1:
                jobs.append(Job(r, aspect, list(range(count)), together=True))
            else:
                jobs.extend(Job(r, aspect, [a], together=False) for a in range(count))
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


def score(
    records: Iterable[Record],
    pack: Pack,
    engine: Engine,
    sampling: Sampling,
    separately: bool = False,
    batch_size: int = 64,
) -> Iterator[list[Record | Reject]]:
    """For each batch of records, the scored records (or rejects), in input order."""
    rubric = pack.manifest.rubric
    if rubric is None:
        raise ValueError(f"pack {pack.name} has no rubric")
    lineage = pack.lineage("score", engine.model, sampling)
    for batch in batched(records, batch_size):
        verdicts: dict[tuple[int, str, int], Verdict] = {}
        jobs = plan(batch, pack, separately)
        # Requests that share a schema go to the engine together.
        groups: dict[tuple[str, int | None], list[Job]] = {}
        for job in jobs:
            groups.setdefault((job.aspect, len(job.answers) if job.together else None), []).append(
                job
            )
        for (aspect_name, count), group in groups.items():
            aspect = rubric.aspects[aspect_name]
            budget = reply_budget(aspect, count or 1)
            shaped = sampling.merged(
                json_schema=judgement_schema(aspect, count),
                max_tokens=max(sampling.max_tokens, budget),
            )
            prompts = [_render(pack, batch[j.record], j, aspect_name, aspect) for j in group]
            seeds = None
            if sampling.seed is not None:
                seeds = [
                    record_seed(sampling.seed, f"{batch[j.record].id}/{j.aspect}/{j.answers}")
                    for j in group
                ]
            for job, result in zip(group, engine.generate(prompts, shaped, seeds), strict=True):
                if result.error is not None:
                    found = [Verdict(error=result.error) for _ in job.answers]
                else:
                    gen = result.generations[0]
                    found = read_verdicts(job, gen.text, gen.truncated)
                for answer, verdict in zip(job.answers, found, strict=True):
                    verdicts[(job.record, job.aspect, answer)] = verdict
        out: list[Record | Reject] = []
        for r, record in enumerate(batch):
            if not answers_of(record):
                out.append(Reject("score", "nothing to score: no output or completions", record=record,
                                  where=record._where or None))  # fmt: skip
                continue
            out.append(apply_verdicts(record, r, rubric.aspects, verdicts).with_lineage(lineage))
        yield out


def record_prompts(record: Record, pack: Pack, separately: bool = False) -> list[Any]:
    """Every prompt the judge is sent for one record (what `packs render` shows)."""
    rubric = pack.manifest.rubric
    assert rubric is not None
    return [
        _render(pack, record, job, job.aspect, rubric.aspects[job.aspect])
        for job in plan([record], pack, separately)
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
    record: Record,
    r: int,
    aspects: dict[str, Aspect],
    verdicts: dict[tuple[int, str, int], Verdict],
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
            verdict = verdicts[(r, name, a)]
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
