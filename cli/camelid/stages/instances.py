"""Self-Instruct's second half: is a new task classification, and what are its instances?

Ordinary tasks get input-first instances; classification tasks get output-first ones (each
label, then an input with that label), which keeps the labels from collapsing onto one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from camelid.engines.base import Engine, Generation, record_seed
from camelid.packs import Pack
from camelid.records import LineageEntry, Record
from camelid.sampling import Sampling
from camelid.stages.instruction_filters import (
    Pair,
    filter_instances,
    parse_input_first,
    parse_output_first,
)


def continues(prompt: object) -> str:
    """The open last line of a raw prompt: the reply continues it ("Class label:")."""
    return prompt.rsplit("\n", 1)[-1] if isinstance(prompt, str) else ""


@dataclass(frozen=True)
class Instances:
    """What the instance step made of one task."""

    is_classification: bool
    kept: list[Pair]
    reasons: list[str]  # why each dropped piece was dropped


@dataclass
class InstanceMaker:
    classify: Pack
    input_first: Pack
    output_first: Pack
    engine: Engine
    seed: int | None = None

    def lineage(self, model: str | None) -> list[LineageEntry]:
        return [
            pack.lineage("self-instruct.instances", model, self._sampling(pack))
            for pack in (self.classify, self.input_first, self.output_first)
        ]

    def make(self, tasks: Sequence[Record]) -> list[Instances]:
        """Classify the tasks, then write and filter their instances, all batched."""
        answers = self._generate(self.classify, tasks)
        flags = []
        for gen in answers:
            parsed = self.classify.parse(gen.text) if gen else None
            # A reply that is neither Yes nor No counts as No: input-first suits any task.
            flags.append(bool(parsed and parsed.value and parsed.value["answer"] == "Yes"))
        clf = [t for t, f in zip(tasks, flags, strict=True) if f]
        other = [t for t, f in zip(tasks, flags, strict=True) if not f]
        replies = dict(zip(map(id, clf), self._generate(self.output_first, clf), strict=True))
        replies |= dict(zip(map(id, other), self._generate(self.input_first, other), strict=True))
        out = []
        for task, is_clf in zip(tasks, flags, strict=True):
            pack = self.output_first if is_clf else self.input_first
            gen = replies[id(task)]
            if gen is None:
                out.append(Instances(is_clf, [], ["no reply from the model"]))
                continue
            text = continues(pack.render(task)) + gen.text
            parse = parse_output_first if is_clf else parse_input_first
            pairs, dropped = parse(text, finish_reason=gen.finish_reason)
            kept, rejected = filter_instances(pairs, task.instruction or "")
            out.append(
                Instances(is_clf, kept, [d.reason for d in dropped] + [r for _, r in rejected])
            )
        return out

    def _sampling(self, pack: Pack) -> Sampling:
        return pack.sampling.merged(seed=self.seed)

    def _generate(self, pack: Pack, tasks: Sequence[Record]) -> list[Generation | None]:
        if not tasks:
            return []
        sampling = self._sampling(pack)
        seeds = None
        if sampling.seed is not None:
            seeds = [record_seed(sampling.seed, f"{pack.name}:{t.instruction}") for t in tasks]
        results = self.engine.generate([pack.render(t) for t in tasks], sampling, seeds)
        return [r.generations[0] if r.error is None and r.generations else None for r in results]
