"""Topic-guided red-teaming (Self-Align's TGRT self-instruct), in two steps usable apart.

1. Topics: per question type, continue a numbered list of short topics; topics are kept when
   they are at most three words and new (case-insensitively, across all types), and rounds go
   on until every type has its share (balanced) or the prompt budget is spent.
2. Questions: per (type, topic), a few seed questions as examples and `n` sampled questions,
   each through the same gate as self-instruct (filters, then ROUGE-L novelty).
Every random choice comes from a generator seeded by the run's seed and what it is for.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from camelid.engines.base import Engine, record_seed
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import LineageEntry, Record, content_hash, make_record
from camelid.sampling import Sampling
from camelid.stages.instances import continues
from camelid.stages.instruction_pool import InstructionGate, clean_instruction

STAGE = "redteam"
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
    words = len(topic.split())
    if words > max_words:
        return f"topic has {words} words (at most {max_words})"
    if topic.casefold() in seen:
        return f"repeated topic '{topic}'"
    return None


@dataclass
class TopicBrainstorm:
    pack: Pack
    engine: Engine
    sampling: Sampling
    seeds: dict[str, list[str]]  # question type -> its seed topics, in order
    per_type: int
    seed: int = 0
    max_prompts: int = 0  # 0: ten per type and topic wanted
    model: str | None = None
    found: dict[str, list[str]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)

    def run(self) -> Iterator[Record]:
        """New topic records, type by type in round order, until each type has `per_type`."""
        known = [*self.seeds.values(), *self.found.values()]  # found: resumed from a file
        seen = {t.casefold() for topics in known for t in topics}
        budget = self.max_prompts or 10 * self.per_type * max(1, len(self.seeds))
        entry = self.pack.lineage(STAGE + ".topics", self.model, self.sampling)
        sent, number = 0, 0
        while sent < budget:
            short = [t for t in self.seeds if len(self.found.get(t, [])) < self.per_type]
            if not short:
                return
            short = short[: budget - sent]
            rng = random.Random(f"{self.seed}:topics:{number}")
            prompts = [self._prompt(t, rng) for t in short]
            seeds = [record_seed(self.seed, f"topics:{number}:{t}") for t in short]
            results = self.engine.generate(prompts, self.sampling, seeds)
            for qtype, prompt, result in zip(short, prompts, results, strict=True):
                if result.error is not None:
                    self.rejects.append(
                        Reject(STAGE, result.error, record={"question_type": qtype})
                    )
                    continue
                gen = result.generations[0]
                parsed = self.pack.parse(continues(prompt) + gen.text)
                items = parsed.value if isinstance(parsed.value, list) else []
                if gen.truncated and items:
                    items = items[:-1]  # the last topic may be cut mid-phrase
                for raw in items:
                    topic = clean_topic(raw)
                    reason = topic_reject(topic, seen)
                    if len(self.found.get(qtype, [])) >= self.per_type:
                        break
                    if reason:
                        record = {"question_type": qtype, "topic": topic or raw}
                        self.rejects.append(Reject(STAGE, reason, record=record))
                        continue
                    seen.add(topic.casefold())
                    self.found.setdefault(qtype, []).append(topic)
                    yield topic_record(qtype, topic, [entry])
            sent += len(short)
            number += 1

    def _prompt(self, qtype: str, rng: random.Random) -> str:
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
        shown = known(qtype, 8)  # enough to set the style, not crowd
        return str(self.pack.render(Record(), question_type=qtype, topics=shown, groups=groups))


@dataclass
class QuestionWriter:
    pack: Pack
    engine: Engine
    sampling: Sampling  # n = questions per topic
    gate: InstructionGate
    examples: list[Record]  # seed questions with question_type and topic
    shots: int = 4
    seed: int = 0
    model: str | None = None

    def write(self, topics: list[Record]) -> tuple[list[Record], list[Reject]]:
        """Questions for a batch of topic records: kept ones and rejects, in input order."""
        prompts = [self.pack.render(t, shots=self._shots(t)) for t in topics]
        seeds = [record_seed(self.seed, f"questions:{t.id}") for t in topics]
        results = self.engine.generate(prompts, self.sampling, seeds)
        entry = self.pack.lineage(STAGE, self.model, self.sampling)
        kept: list[Record] = []
        rejects: list[Reject] = []
        for topic, result in zip(topics, results, strict=True):
            extra = topic.model_extra or {}
            where = {"question_type": extra.get("question_type"), "topic": extra.get("topic")}
            if result.error is not None:
                rejects.append(Reject(STAGE, result.error, record=where))
                continue
            for gen in result.generations:
                question = clean_instruction(gen.text)
                verdict = self.gate.admit(question, truncated=gen.truncated)
                if isinstance(verdict, str):
                    rejects.append(Reject(STAGE, verdict, record=where | {"instruction": question}))
                    continue
                lineage = [*(topic.lineage or []), entry]
                kept.append(
                    make_record(
                        instruction=question, source="redteam", lineage=lineage, **where, **verdict
                    )  # fmt: skip
                )
        return kept, rejects

    def _shots(self, topic: Record) -> list[dict[str, str]]:
        """Seed questions of the topic's type first, then of other types, shuffled."""
        rng = random.Random(f"{self.seed}:shots:{topic.id}")
        qtype = (topic.model_extra or {}).get("question_type")
        same = [e for e in self.examples if (e.model_extra or {}).get("question_type") == qtype]
        taken = set(map(id, same))
        other = [e for e in self.examples if id(e) not in taken]
        chosen = rng.sample(same, min(len(same), self.shots))
        chosen += rng.sample(other, min(len(other), self.shots - len(chosen)))
        rng.shuffle(chosen)
        return [
            {
                "question_type": str((e.model_extra or {}).get("question_type", "")),
                "topic": str((e.model_extra or {}).get("topic", "")),
                "instruction": clean_instruction(e.instruction or ""),
            }
            for e in chosen
        ]
