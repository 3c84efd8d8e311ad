"""Answer instructions: `output` for one answer, `completions` for several (best-of-n, pools).

K completions per record are spread over one or more models (UltraFeedback's model pools). With
one model the records stream through in batches. With several, every model must see every
record while it is loaded, so the records are held in memory and the models run one after
another, each loaded once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from camelid.engines.base import Engine, Generation, Prompt, Result, record_seed
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import Completion, LineageEntry, Record, with_extras
from camelid.sampling import Sampling
from camelid.stages import principle_prompts
from camelid.stages.generate import Apply, batched

# A per-completion check: the completion to keep (possibly amended) or why it is refused.
Check = Callable[[Record, Completion], "Completion | str"]
Outcome = Completion | str  # a kept completion, or why one was lost

PROBE = "\x00camelid-system-probe\x00"


def uses_system(pack: Pack) -> bool:
    """Whether the pack shows the model the record's system prompt (principle prompts need it)."""
    rendered = pack.render(Record(instruction="x", input="x", system=PROBE))
    texts = [rendered] if isinstance(rendered, str) else [m["content"] for m in rendered]
    return any(PROBE in text for text in texts)


def shares(n: int, models: int) -> list[int]:
    """How many of n completions each model writes: as even as can be, the first ones first."""
    return [n // models + (1 if i < n % models else 0) for i in range(models)]


@dataclass
class Request:
    record: int  # index in the batch
    prompt: Prompt
    seed: int | None
    principle: str | None


@dataclass
class Responder:
    pack: Pack
    sampling: Sampling  # sampling.n: completions per record, over all models
    models: list[str]  # names recorded on the completions
    principle_prompts: bool = False
    keep_truncated: bool = False
    check: Check | None = None
    stage: str = "respond"

    @cached_property
    def shares(self) -> list[int]:
        return shares(self.sampling.n, len(self.models))

    @cached_property
    def lineage(self) -> LineageEntry:
        pooled = len(self.models) > 1
        entry = self.pack.lineage(self.stage, None if pooled else self.models[0], self.sampling)
        extras: dict[str, Any] = {"models": self.models if pooled else None}
        extras["principle_prompts"] = True if self.principle_prompts else None
        return with_extras(entry, **extras)

    def model_sampling(self, index: int) -> Sampling:
        return self.sampling.merged(n=1 if self.principle_prompts else self.shares[index])

    def requests(self, record: Record, at: int, index: int) -> list[Request]:
        """What model number `index` is asked for this record."""
        name, seed = self.models[index], self.sampling.seed
        if not self.principle_prompts:
            key = record.id if len(self.models) == 1 else f"{record.id}:{name}"
            rseed = None if seed is None else record_seed(seed, key)
            return [Request(at, self.pack.render(record), rseed, None)]
        first = sum(self.shares[:index])
        out = []
        for slot in range(first, first + self.shares[index]):
            principle, text = principle_prompts.choose(seed or 0, record.id, slot)
            system = principle_prompts.with_system(record.system, text)
            rseed = None if seed is None else record_seed(seed, f"{record.id}:{name}:{slot}")
            out.append(Request(at, self.pack.render(record, system=system), rseed, principle))
        return out

    def run(self, engine: Engine, index: int, batch: list[Record]) -> list[list[Outcome]]:
        """One model's outcomes for each record of the batch."""
        requests = [r for at, record in enumerate(batch) for r in self.requests(record, at, index)]
        seeds = None if self.sampling.seed is None else [r.seed or 0 for r in requests]
        results = engine.generate([r.prompt for r in requests], self.model_sampling(index), seeds)
        outcomes: list[list[Outcome]] = [[] for _ in batch]
        for request, result in zip(requests, results, strict=True):
            outcomes[request.record] += self.outcomes(
                batch[request.record], result, self.models[index], request.principle
            )
        return outcomes

    def outcomes(
        self, record: Record, result: Result, model: str, principle: str | None = None
    ) -> list[Outcome]:
        if result.error is not None:
            return [result.error]
        return [self.completion(record, g, model, principle) for g in result.generations]

    def completion(
        self, record: Record, gen: Generation, model: str, principle: str | None
    ) -> Outcome:
        if gen.truncated and not self.keep_truncated:
            return f"answer cut off at --max-tokens {self.sampling.max_tokens}"
        parsed = self.pack.parse(gen.text)
        if parsed.error:
            return parsed.error
        made = to_completion(parsed.value, model, gen.finish_reason)
        if isinstance(made, str):
            return made
        if principle is not None:
            made = with_extras(made, principle=principle)
        return self.check(record, made) if self.check else made

    def finish(self, record: Record, outcomes: list[Outcome]) -> Record | Reject:
        kept = [o for o in outcomes if isinstance(o, Completion)]
        if not kept:
            reasons = sorted({o for o in outcomes if isinstance(o, str)})
            return Reject(
                self.stage, "; ".join(reasons) or "no answer", record, record._where or None
            )
        if self.sampling.n > 1:
            update: dict[str, Any] = {"completions": [*(record.completions or []), *kept]}
            return record.model_copy(update=update).with_lineage(self.lineage)
        [best] = kept
        update = {"output": best.text}
        if best.rationales:
            update["rationales"] = {**(record.rationales or {}), **best.rationales}
        out = record.model_copy(update=update)
        return with_extras(out, **(best.__pydantic_extra__ or {})).with_lineage(self.lineage)


def to_completion(value: Any, model: str, finish_reason: str | None) -> Outcome:
    """A parsed reply as a completion. A structured reply (a JSON object) gives its `answer` as
    the text, its other text fields as rationales and anything else as fields of that name."""
    rationales: dict[str, str] = {}
    extras: dict[str, Any] = {}
    if isinstance(value, dict):
        text = value.get("answer")
        if not isinstance(text, str):
            return "reply has no answer"
        for key, item in value.items():
            if key == "answer" or key in Completion.model_fields:
                continue
            if isinstance(item, str):
                rationales[key] = item.strip()
            else:
                extras[key] = item
    elif isinstance(value, str):
        text = value
    else:
        return "reply is not an answer (the pack's parser gives a list)"
    if not text.strip():
        return "empty answer"
    made = Completion(
        text=text.strip(), model=model, finish_reason=finish_reason, rationales=rationales or None
    )
    return with_extras(made, **extras) if extras else made


def missing(pack: Pack, record: Record, stage: str) -> Reject | None:
    if lacks := pack.missing_inputs(record):
        reason = f"lacks {', '.join(lacks)}, which pack {pack.name} needs"
        return Reject(stage, reason, record=record, where=record._where or None)
    return None


def respond(
    records: Iterable[Record], responder: Responder, engine: Engine, batch_size: int = 256
) -> Iterator[list[Record | Reject]]:
    """One model: each batch of input records, answered, in order."""
    for batch in batched(records, batch_size):
        todo = [r for r in batch if not missing(responder.pack, r, responder.stage)]
        outcomes = iter(responder.run(engine, 0, todo) if todo else [])
        yield [
            missing(responder.pack, r, responder.stage) or responder.finish(r, next(outcomes))
            for r in batch
        ]


def respond_pool(
    records: Iterable[Record],
    responder: Responder,
    open_model: Callable[[int], AbstractContextManager[Engine]],
    batch_size: int = 256,
) -> Iterator[list[Record | Reject]]:
    """Several models: every record through each model in turn (each loaded once), then the
    answered records in input order."""
    every = list(records)
    todo = [r for r in every if not missing(responder.pack, r, responder.stage)]
    outcomes: list[list[Outcome]] = [[] for _ in todo]
    for index in range(len(responder.models) if todo else 0):  # nothing to answer: load none
        with open_model(index) as engine:
            for start in range(0, len(todo), batch_size):
                chunk = todo[start : start + batch_size]
                for offset, found in enumerate(responder.run(engine, index, chunk)):
                    outcomes[start + offset] += found
    answered = iter(outcomes)
    yield [
        missing(responder.pack, r, responder.stage) or responder.finish(r, next(answered))
        for r in every
    ]


def answer(pack: Pack, model: str, sampling: Sampling, keep_truncated: bool = False) -> Apply:
    """For run_pack: turn one model's engine result into the answered record (or its reject)."""
    responder = Responder(pack, sampling, [model], keep_truncated=keep_truncated)

    def apply(record: Record, result: Result) -> Record | Reject:
        return responder.finish(record, responder.outcomes(record, result, model))

    return apply
