"""Red-teaming questions (Self-Align's TGRT, step 2): per (type, topic), a few seed questions as
examples and `n` sampled questions, each through the filters and then the novelty gate."""

from __future__ import annotations

import random
from dataclasses import dataclass

from camelid.fields import extra_text
from camelid.records import Outcome, Record, Reject, make_record
from camelid.runtime.model import PackStage, Reply, Request
from camelid.stages.instructions.gate import GateSettings, clean_instruction
from camelid.stages.redteam.topics import STAGE


@dataclass
class QuestionWriter(PackStage):
    """A topic record -> up to `sampling.n` questions that pass the filters (novelty is the
    gate's, after this stage)."""

    rules: GateSettings
    examples: list[Record]  # seed questions with question_type and topic
    shots: int = 4
    seed: int = 0
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
            reason = self.rules.reject(question, truncated=gen.truncated)
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
