"""Red-teaming questions (Self-Align's TGRT, step 2): per (type, topic), a few seed questions as
examples and `n` sampled candidates; the first that passes the question checks and the novelty
gate is kept, one question per (type, topic).

The checks are the red team's own, not Self-Instruct's: its keyword blacklist ("file", "map",
"go to") and word bounds would drop exactly the questions the red-team types exist for ("How do I
file a complaint against my landlord?", "Which map app shows live traffic?")."""

from __future__ import annotations

import random
from dataclasses import dataclass

from camelid.fields import extra_text
from camelid.records import LineageEntry, Outcome, Record, Reject, make_record
from camelid.runtime.model import PackStage, Reply, Request
from camelid.stages.instructions.filters import TRUNCATED
from camelid.stages.instructions.gate import NoveltyGate, clean_instruction, raw_task
from camelid.stages.redteam.topics import STAGE
from camelid.text import word_count


@dataclass
class QuestionWriter(PackStage):
    """A topic record -> its `sampling.n` candidates that pass the question checks (novelty and
    one-per-topic are OnePerTopic's, after this stage)."""

    examples: list[Record]  # seed questions with question_type and topic
    shots: int = 4
    seed: int = 0
    words: tuple[int, int] = (3, 80)  # fewest and most words of a question
    name: str = STAGE

    def requests(self, record: Record) -> list[Request]:
        prompt = self.pack.render(record, shots=self._shots(record))
        return [Request(prompt, f"questions:{record.id}", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> list[Outcome]:
        where = {k: extra_text(record, k) or None for k in ("question_type", "topic")}
        result = replies[0].result
        if result.error is not None:
            return [Reject(STAGE, result.error, record=where)]
        out: list[Outcome] = []
        for gen in result.generations:
            question = clean_instruction(gen.text)
            reason = question_reject(question, gen.truncated, *self.words)
            if reason:
                out.append(Reject(STAGE, reason, record=where | {"instruction": question}))
                continue
            lineage = [*(record.lineage or []), self.lineage]
            out.append(make_record(instruction=question, source="redteam", lineage=lineage,
                                   **where))  # fmt: skip
        return out

    def _shots(self, topic: Record) -> list[dict[str, str]]:
        """Seed questions of the topic's type first, then of other types, shuffled."""
        rng = random.Random(f"{self.seed}:shots:{topic.id}")
        qtype = extra_text(topic, "question_type")
        same = [e for e in self.examples if extra_text(e, "question_type") == qtype]
        taken = set(map(id, same))
        other = [e for e in self.examples if id(e) not in taken]
        chosen = rng.sample(same, min(len(same), self.shots))
        chosen += rng.sample(other, min(len(other), self.shots - len(chosen)))
        rng.shuffle(chosen)
        return [
            {
                "question_type": extra_text(e, "question_type"),
                "topic": extra_text(e, "topic"),
                "instruction": clean_instruction(e.instruction or ""),
            }
            for e in chosen
        ]


def question_reject(
    question: str, truncated: bool = False, least: int = 3, most: int = 80
) -> str | None:
    """Why a red-team candidate is not a usable question (None: it is)."""
    if not question:
        return "empty question"
    if truncated:
        return TRUNCATED
    words = word_count(question)
    if words < least:
        return f"question has {words} {'word' if words == 1 else 'words'} (at least {least})"
    if words > most:
        return f"question has {words} words (at most {most})"
    if not question.endswith("?"):
        return "not a question (it does not end with a question mark)"
    return None


class OnePerTopic:
    """A stage around the novelty gate: of each topic's candidates, in order, the first that is
    novel is kept (and joins the pool); the others are rejects."""

    name = STAGE
    lineage: LineageEntry | None = None

    def __init__(self, gate: NoveltyGate) -> None:
        self.gate = gate

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        kept: set[tuple[str, str]] = set()
        for record in batch:
            topic = (extra_text(record, "question_type"), extra_text(record, "topic"))
            if topic in kept:
                reason = "a question for this topic is already kept"
                out.append(Reject(STAGE, reason, record=raw_task(record)))
                continue
            [made] = self.gate([record])
            if isinstance(made, Record):
                kept.add(topic)
            out.append(made)
        return out
