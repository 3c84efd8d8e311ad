"""Answer instructions: `output` for one answer, `completions` for several (best-of-n, pools).

K completions per record are spread over one or more models (UltraFeedback's model pools). With
one model the records stream through in batches. With several, every model must see every
record while it is loaded, so the records are held in memory and the models run one after
another, each loaded once.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from camelid.engines.base import Engine, Generation
from camelid.errors import UsageError
from camelid.packs import Pack
from camelid.records import Completion, LineageEntry, Record, Reject, with_extras
from camelid.runtime.model import ModelStage, Reply, Request, lacks_inputs, model_lineage
from camelid.sampling import Sampling
from camelid.stages.respond import principles, system_messages

STAGE = "respond"

# A per-completion check: the completion to keep (possibly amended) or why it is refused.
Check = Callable[[Record, Completion], "Completion | str"]
Answer = Completion | str  # a kept completion, or why one was lost

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
class Responder(ModelStage):
    """Answers from one model of the pool (`index`) for each record; with one model, a stage
    whose records come out answered. A pool runs one Responder per model (see answer_with_pool)
    and finishes the records once every model has answered."""

    pack: Pack
    sampling: Sampling  # sampling.n: completions per record, over all models
    models: list[str]  # names recorded on the completions
    principle_prompts: bool = False
    keep_truncated: bool = False
    check: Check | None = None
    engine: Engine | None = None  # type: ignore[assignment]
    index: int = 0  # which model of the pool the engine serves
    name: str = STAGE
    # Why completions were dropped from records that kept others (shared by serving() copies).
    dropped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.principle_prompts and self.menu:
            raise UsageError(
                f"--principle-prompts: pack {self.pack.name} draws its own system messages "
                f"({system_messages.FILE}); use one or the other"
            )

    @cached_property
    def shares(self) -> list[int]:
        return shares(self.sampling.n, len(self.models))

    def assignment(self, record: Record) -> list[int]:
        """The model (its index in the pool) of each of the record's n completions. A pool of
        at least n models gives each record n distinct ones drawn at random (seeded by the
        record), as UltraFeedback drew 4 of its 17; a smaller pool shares them out evenly."""
        n, count = self.sampling.n, len(self.models)
        if count > 1 and count >= n:
            rng = random.Random(f"{self.sampling.seed}:{record.id}:models")
            return sorted(rng.sample(range(count), n))
        return [m for m, share in enumerate(self.shares) for _ in range(share)]

    @cached_property
    def menu(self) -> list[system_messages.SystemMessage]:
        """The pack's own system messages, one drawn per completion (none: the pack's system)."""
        return system_messages.load(self.pack)

    @property
    def lineage(self) -> LineageEntry:
        pooled = len(self.models) > 1
        entry = self.pack.lineage(self.name, None if pooled else self.models[0], self.sampling)
        if not pooled and self.engine is not None:
            entry = model_lineage(self.pack, self.name, self.engine, self.sampling)
            entry = entry.model_copy(update={"model": self.models[0]})
        extras: dict[str, Any] = {"models": self.models if pooled else None}
        extras["principle_prompts"] = True if self.principle_prompts else None
        extras["system_messages"] = len(self.menu) or None
        return with_extras(entry, **extras)

    def serving(self, engine: Engine, index: int) -> Responder:
        """The same responder, for model number `index` of the pool, served by `engine`."""
        return replace(self, engine=engine, index=index)

    def requests(self, record: Record) -> list[Request] | Reject:
        """What model number `index` is asked for this record (maybe nothing: another model
        of the pool writes its completions)."""
        if lacks := lacks_inputs(self.pack, record, self.name):
            return lacks
        name = self.models[self.index]
        slots = [k for k, m in enumerate(self.assignment(record)) if m == self.index]
        if not slots:
            return []
        if not self.principle_prompts and not self.menu:
            key = record.id if len(self.models) == 1 else f"{record.id}:{name}"
            sampling = self.sampling.merged(n=len(slots))
            return [Request(self.pack.render(record), key, sampling)]
        # A system prompt drawn per completion: one request each, the draw noted on the answer.
        out = []
        for slot in slots:
            note = self.draw_system(record, slot)
            system = principles.with_system(record.system, note.pop("text"))
            if self.menu:
                note["system"] = system  # what the student is to be trained with
            prompt = self.pack.render(record, system=system)
            key = f"{record.id}:{name}:{slot}"
            out.append(Request(prompt, key, self.sampling.merged(n=1), note))
        return out

    def draw_system(self, record: Record, slot: int) -> dict[str, str]:
        """The system prompt drawn for a completion (`text`) and the fields that record it."""
        seed = self.sampling.seed or 0
        if self.menu:
            message = system_messages.choose(self.menu, seed, record, slot)
            return {"text": message.text, "system_message": message.name}
        principle, text = principles.choose(seed, record.id, slot)
        return {"text": text, "principle": principle}

    def outcomes(self, record: Record, replies: list[Reply]) -> list[Answer]:
        """Each reply's completions, or why each was lost."""
        out: list[Answer] = []
        for reply in replies:
            if reply.result.error is not None:
                out.append(reply.result.error)
                continue
            model = self.models[self.index]
            out += [self.completion(record, g, model, reply.request.note)
                    for g in reply.result.generations]  # fmt: skip
        return out

    def finish(self, record: Record, replies: list[Reply]) -> Record | Reject:
        return self.complete(record, self.outcomes(record, replies))

    def completion(
        self, record: Record, gen: Generation, model: str, drawn: dict[str, str] | None
    ) -> Answer:
        if gen.truncated and not self.keep_truncated:
            return f"answer cut off at --max-tokens {self.sampling.max_tokens}"
        parsed = self.pack.parse(gen.text)
        if parsed.error:
            return parsed.error
        made = to_completion(parsed.value, model, gen.finish_reason)
        if isinstance(made, str):
            return made
        if drawn:
            made = with_extras(made, **drawn)
        return self.check(record, made) if self.check else made

    def complete(self, record: Record, answers: list[Answer]) -> Record | Reject:
        """The record with its answers (all models'), or why it got none."""
        kept = [o for o in answers if isinstance(o, Completion)]
        lost = [o for o in answers if isinstance(o, str)]
        if not kept:
            return Reject.of(self.name, "; ".join(sorted(set(lost))) or "no answer", record)
        self.dropped.update(lost)
        if self.sampling.n > 1:
            update: dict[str, Any] = {"completions": [*(record.completions or []), *kept]}
            return record.model_copy(update=update).with_lineage(self.lineage)
        [best] = kept
        extras = dict(best.__pydantic_extra__ or {})
        update = {"output": best.text}
        if "system" in extras:  # a drawn system message becomes the record's own
            update["system"] = extras.pop("system")
        if best.rationales:
            update["rationales"] = {**(record.rationales or {}), **best.rationales}
        out = record.model_copy(update=update)
        lineage = self.lineage
        if "system_message" in extras:  # which message, in the lineage too
            lineage = with_extras(lineage, system_message=extras["system_message"])
        return with_extras(out, **extras).with_lineage(lineage)


def dropped_note(dropped: Counter[str]) -> str | None:
    """A line saying how many completions records lost, and why (None: none lost)."""
    if not dropped:
        return None
    reasons = ", ".join(f"{reason} ({count})" for reason, count in dropped.most_common())
    total = sum(dropped.values())
    what = "completion" if total == 1 else "completions"
    hint = "; --keep-truncated keeps cut-off answers" if "cut off" in reasons else ""
    return f"respond: {total} {what} dropped from records that kept others: {reasons}{hint}"


def to_completion(value: Any, model: str, finish_reason: str | None) -> Answer:
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


def answer_with_pool(
    records: list[Record],
    responder: Responder,
    open_model: Callable[[int], AbstractContextManager[Engine]],
    batch_size: int = 256,
) -> list[Record | Reject]:
    """Several models: every record through each model in turn (each loaded once), then the
    answered records in input order."""
    answers: dict[int, list[Answer]] = {i: [] for i in range(len(records))}
    refused: dict[int, Reject] = {}
    for index in range(len(responder.models)):
        if len(refused) == len(records):
            break  # nothing to answer: load no (more) models
        with open_model(index) as engine:
            stage = responder.serving(engine, index)
            for start in range(0, len(records), batch_size):
                chunk = records[start : start + batch_size]
                for offset, replies in enumerate(stage.collect(chunk)):
                    if isinstance(replies, Reject):
                        refused[start + offset] = replies
                    else:
                        answers[start + offset] += stage.outcomes(chunk[offset], replies)
    return [
        refused[i] if i in refused else responder.complete(record, answers[i])
        for i, record in enumerate(records)
    ]
