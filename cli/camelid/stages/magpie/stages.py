"""Magpie's model steps: a user query written from the pre-query text alone (raw completion),
then its answer through the chat template; every request keyed by the slot and the turn, so a
record's result never depends on its batch."""

from __future__ import annotations

from dataclasses import dataclass

from camelid.engines.base import Engine
from camelid.records import (
    LineageEntry,
    Message,
    Outcome,
    Record,
    Reject,
    content_hash,
    make_record,
)
from camelid.runtime.model import ModelStage, Reply, Request
from camelid.sampling import Sampling
from camelid.stages.magpie.filters import Rules, answer_reason, query_reason
from camelid.stages.magpie.template import ChatTemplate

STAGE = "magpie"
Turn = dict[str, str]


def slot(index: int) -> Record:
    """The empty record one query starts from; its id (kept until the end) keys its requests."""
    return make_record(id=content_hash({STAGE: index}))


def history(record: Record) -> list[Turn]:
    """The conversation so far, without the system prompt."""
    if record.messages:
        return [{"role": m.role, "content": m.content} for m in record.messages]
    if record.instruction is None:
        return []
    turns = [{"role": "user", "content": record.instruction}]
    return turns + ([{"role": "assistant", "content": record.output}] if record.output else [])


def with_turns(record: Record, turns: list[Turn]) -> Record:
    """One turn: instruction and output; more: the first query as instruction, and messages."""
    if len(turns) <= 2:
        output = turns[1]["content"] if len(turns) > 1 else None
        return record.model_copy(update={"instruction": turns[0]["content"], "output": output})
    return record.model_copy(
        update={
            "instruction": turns[0]["content"],
            "output": None,
            "messages": [Message(**t) for t in turns],
        }
    )


def finished(record: Record) -> Record:
    """The slot id replaced by the content hash, as every written record has."""
    return record.model_copy(update={"id": record.content_id()})


@dataclass
class QueryWriter(ModelStage):
    """The next user query, continued from the pre-query text and stopped at the end of turn."""

    template: ChatTemplate
    engine: Engine
    sampling: Sampling
    rules: Rules
    system: str | None = None
    turn: int = 1
    name: str = STAGE + ".query"

    @property
    def lineage(self) -> LineageEntry:
        return LineageEntry(
            stage=self.name,
            template_hash=self.template.hash(self.system),
            model=self.engine.model,
            sampling=self.sampling.model_dump(exclude={"seed", "json_schema"}),
            seed=self.sampling.seed,
        )

    def requests(self, record: Record) -> list[Request]:
        prompt = self.template.pre_query(history(record), self.system)
        return [Request(prompt, f"{record.id}:query:{self.turn}", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        result = replies[0].result
        if result.error is not None:
            return Reject.of(STAGE, f"query failed: {result.error}", record)
        gen = result.generations[0]
        query = gen.text.strip()
        made = with_turns(record, [*history(record), {"role": "user", "content": query}])
        made = made.model_copy(update={"system": self.system, "source": STAGE})
        if gen.truncated:
            return Reject.of(STAGE, "query cut off at max_tokens", made)
        if reason := query_reason(query, self.rules):
            return Reject.of(STAGE, reason, made)
        return made.with_lineage(self.lineage)


@dataclass
class Answerer(ModelStage):
    """The same model answers the conversation through its chat template."""

    engine: Engine
    sampling: Sampling
    rules: Rules
    system: str | None = None
    turn: int = 1
    name: str = STAGE + ".answer"

    @property
    def lineage(self) -> LineageEntry:
        return LineageEntry(
            stage=self.name,
            model=self.engine.model,
            sampling=self.sampling.model_dump(exclude={"seed", "json_schema"}),
            seed=self.sampling.seed,
        )

    def requests(self, record: Record) -> list[Request]:
        system = [{"role": "system", "content": self.system}] if self.system else []
        prompt = system + history(record)
        return [Request(prompt, f"{record.id}:answer:{self.turn}", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        result = replies[0].result
        if result.error is not None:
            return Reject.of(STAGE, f"answer failed: {result.error}", record)
        answer = result.generations[0].text.strip()
        made = with_turns(record, [*history(record), {"role": "assistant", "content": answer}])
        if reason := answer_reason(answer, self.rules):
            return Reject.of(STAGE, reason, made)
        return made.with_lineage(self.lineage)


@dataclass
class MinQuality:
    """Drops a query the judge rated below `least` (its rating, or none, in the reason)."""

    least: float
    aspect: str = "quality"
    name: str = STAGE
    lineage: LineageEntry | None = None

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for record in batch:
            score = (record.scores or {}).get(self.aspect)
            if score is None:
                out.append(Reject.of(STAGE, "query quality not rated (the judgement failed)",
                                     record))  # fmt: skip
            elif score < self.least:
                why = f"query quality {score:.2f} below --min-quality {self.least:g}"
                out.append(Reject.of(STAGE, why, record))
            else:
                out.append(record)
        return out


class Finish:
    """The last stage: written records get their content id."""

    name = STAGE
    lineage: LineageEntry | None = None

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        return [finished(r) for r in batch]
