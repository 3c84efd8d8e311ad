"""Red-teaming topics (Self-Align's TGRT, step 1): per question type, continue a numbered list
of short topics. A topic is kept when it is at most three words and new (case-insensitively,
across all types); rounds go on until every type has its share (balanced) or the prompt budget
is spent. Every random choice comes from a generator seeded by the run's seed and the round.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from camelid.fields import extra_text
from camelid.records import LineageEntry, Outcome, Record, Reject, content_hash, make_record
from camelid.runtime import Chain
from camelid.runtime.model import PackStage, Reply, Request
from camelid.stages.instructions.instances import continues
from camelid.text import word_count

STAGE = "redteam"
TOPICS = STAGE + ".topics"
_TRIM = re.compile(r"^[\s\"'*`-]+|[\s\"'*`.,;:!?-]+$")


def topic_record(question_type: str, topic: str, lineage: list[LineageEntry]) -> Record:
    key = content_hash({"question_type": question_type, "topic": topic})
    return make_record(
        id=key, question_type=question_type, topic=topic, source="redteam-topic", lineage=lineage
    )


def clean_topic(text: str) -> str:
    return _TRIM.sub("", " ".join(text.split()))


def topic_reject(topic: str, seen: set[str], max_words: int = 3) -> str | None:
    if not topic:
        return "empty topic"
    words = word_count(topic)
    if words > max_words:
        return f"topic has {words} words (at most {max_words})"
    if topic.casefold() in seen:
        return f"repeated topic '{topic}'"
    return None


@dataclass
class TopicWriter(PackStage):
    """A prompt slot (a type and the lists shown) -> the topics the model listed, unchecked."""

    name: str = TOPICS  # its rejects are the redteam stage's

    def requests(self, record: Record) -> list[Request]:
        slot = record.model_extra or {}
        prompt = self.pack.render(Record(), question_type=slot["question_type"],
                                  topics=slot["shown"], groups=slot["groups"])  # fmt: skip
        return [Request(prompt, f"topics:{slot['round']}:{slot['question_type']}", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> list[Outcome]:
        qtype = extra_text(record, "question_type")
        result = replies[0].result
        if result.error is not None:
            return [Reject(STAGE, result.error, record={"question_type": qtype})]
        gen = result.generations[0]
        parsed = self.pack.parse(continues(replies[0].request.prompt) + gen.text)
        items = parsed.value if isinstance(parsed.value, list) else []
        if gen.truncated and items:
            items = items[:-1]  # the last topic may be cut mid-phrase
        return [topic_record(qtype, clean_topic(raw) or raw, [self.lineage]) for raw in items]


class TopicGate:
    """A stage: topics kept while their type is short of `per_type`, if short and new."""

    name = STAGE
    lineage: LineageEntry | None = None

    def __init__(self, per_type: int, seen: set[str], found: dict[str, list[str]]) -> None:
        self.per_type, self.seen, self.found = per_type, seen, found

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for record in batch:
            qtype, topic = extra_text(record, "question_type"), extra_text(record, "topic")
            if len(self.found.get(qtype, [])) >= self.per_type:
                continue  # the type has its share: the rest of the reply is not needed
            reason = topic_reject(clean_topic(topic), self.seen)
            if reason:
                raw = {"question_type": qtype, "topic": topic}
                out.append(Reject(STAGE, reason, record=raw))
                continue
            self.seen.add(topic.casefold())
            self.found.setdefault(qtype, []).append(topic)
            out.append(record)
        return out


@dataclass
class TopicRound:
    number: int
    slots: list[Record]
    topics: list[Record]
    rejects: list[Reject]


@dataclass
class Brainstorm:
    writer: TopicWriter
    seeds: dict[str, list[str]]  # question type -> its seed topics, in order
    per_type: int
    seed: int = 0
    max_prompts: int = 0  # 0: ten per type and topic wanted
    found: dict[str, list[str]] = field(default_factory=dict)  # resumed runs start with theirs
    rejects: list[Reject] = field(default_factory=list)

    def rounds(self, start: int = 0) -> Iterator[TopicRound]:
        """Rounds of one prompt per type still short of topics, until none is or the budget
        is spent."""
        known = [*self.seeds.values(), *self.found.values()]
        seen = {t.casefold() for topics in known for t in topics}
        gate = TopicGate(self.per_type, seen, self.found)
        budget = self.max_prompts or 10 * self.per_type * max(1, len(self.seeds))
        sent, number = 0, start
        while sent < budget:
            short = [t for t in self.seeds if len(self.found.get(t, [])) < self.per_type]
            if not short:
                return
            slots = self.slots(number, short[: budget - sent])
            made = Chain([self.writer, gate])(slots)
            rejects = [o for o in made if isinstance(o, Reject)]
            self.rejects += rejects
            topics = [o for o in made if isinstance(o, Record)]
            yield TopicRound(number, slots, topics, rejects)
            sent += len(slots)
            number += 1

    def run(self) -> Iterator[Record]:
        for round_ in self.rounds():
            yield from round_.topics

    def slots(self, number: int, types: list[str]) -> list[Record]:
        rng = random.Random(f"{self.seed}:topics:{number}")
        out = []
        for qtype in types:
            shown, groups = self._lists(qtype, rng)
            out.append(make_record(id=content_hash({TOPICS: number, "type": qtype}),
                                   round=number, question_type=qtype, shown=shown,
                                   groups=groups))  # fmt: skip
        return out

    def _lists(self, qtype: str, rng: random.Random) -> tuple[list[str], list[dict]]:
        """The type's known topics, after the lists of three other types: a small model needs
        to see several lists of short phrases to keep to the form."""

        def known(t: str, most: int) -> list[str]:
            topics = [*self.seeds.get(t, []), *self.found.get(t, [])]
            return rng.sample(topics, min(len(topics), most))

        others = [t for t in self.seeds if t != qtype and known(t, 1)]
        groups = [
            {"question_type": t, "topics": known(t, 5)}
            for t in rng.sample(others, min(3, len(others)))
        ]
        return known(qtype, 8), groups  # enough to set the style, not crowd
