"""A judgement's shape and reading: the reply schema (rationale first, an enum rating), the
token budget that fits it, and how verdicts land on a record (`scores`, `rationales`, `types`,
and `judge_errors` for a reply that did not parse: its score null, never a made-up default)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from camelid.packs import Aspect, Pack
from camelid.records import Record, with_extras


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
    rating: float | None = None  # what the judge wrote
    rationale: str | None = None
    types: list[str] = field(default_factory=list)
    error: str | None = None
    raw: str | None = None
    expected: float | None = None  # under its distribution over the allowed ratings

    def value(self, expected: bool) -> float | None:
        """The score: the expected rating when asked for and known, else the one written."""
        return self.expected if expected and self.expected is not None else self.rating


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


def read_verdicts(
    job: Job,
    text: str,
    truncated: bool,
    expected: list[float | None] = (),  # type: ignore[assignment]
) -> list[Verdict]:
    """The verdicts of one reply, in the order the answers were shown; `expected`: the expected
    rating of each numeric rating in the reply, in order (N/A has none)."""

    def failed(reason: str) -> list[Verdict]:
        return [Verdict(error=reason, raw=text) for _ in job.answers]

    if truncated:
        return failed("judgement cut off at max_tokens")
    try:
        value = orjson.loads(text)
        items = value["answers"] if job.together else [value]
        if len(items) != len(job.answers):
            return failed(f"expected {len(job.answers)} judgements, got {len(items)}")
        values = iter(expected)
        return [
            Verdict(
                rating=None if item["rating"] == "N/A" else float(item["rating"]),
                rationale=item["rationale"],
                types=list(item.get("types", [])),
                expected=None if item["rating"] == "N/A" else next(values, None),
            )
            for item in items
        ]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        return failed(f"unparsable judgement: {type(exc).__name__}: {str(exc)[:80]}")


def apply_verdicts(
    record: Record,
    aspects: dict[str, Aspect],
    verdicts: dict[tuple[str, int], Verdict],
    expected: bool = False,
) -> Record:
    """Write scores into `scores`, rationales into `rationales` (of the record or of each
    completion), labels into `types`, and failures into `judge_errors`. With expected scores,
    the ratings the judge wrote are kept beside them in `ratings`."""
    targets: list[Any] = record.completions or [record]
    updated = []
    for a, target in enumerate(targets):
        extra = target.__pydantic_extra__ or {}
        scores, rationales = dict(target.scores or {}), dict(target.rationales or {})
        types, errors = dict(extra.get("types") or {}), dict(extra.get("judge_errors") or {})
        written = dict(extra.get("ratings") or {})
        for name in aspects:
            verdict = verdicts[(name, a)]
            scores[name] = verdict.value(expected)
            written.pop(name, None)
            if expected and verdict.expected is not None:
                written[name] = verdict.rating
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
        updated.append(with_extras(target, ratings=written or None, types=types or None,
                                   judge_errors=errors or None))  # fmt: skip
    if record.completions:
        return record.model_copy(update={"completions": updated})
    return updated[0]


def count_failures(record: Record) -> int:
    targets: list[Any] = record.completions or [record]
    return sum(len((t.__pydantic_extra__ or {}).get("judge_errors", {})) for t in targets)
