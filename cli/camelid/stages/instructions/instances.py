"""Self-Instruct's second half: is a new task classification, and what are its instances?

Two model stages, one after the other: Classify asks whether each task is a classification
task; WriteInstances asks for its instances, input-first for ordinary tasks and output-first
(each label, then an input with that label) for classification, which keeps the labels from
collapsing onto one. A task without a usable instance is rejected (it stays in the novelty
pool, as in Self-Instruct, where instances came after the pool was built).
"""

from __future__ import annotations

from dataclasses import dataclass

from camelid.engines.base import Engine, Prompt
from camelid.packs import Pack
from camelid.records import LineageEntry, Outcome, Record, Reject, make_record, with_extras
from camelid.runtime.model import ModelStage, Reply, Request
from camelid.sampling import Sampling
from camelid.stages.instructions.filters import filter_instances
from camelid.stages.instructions.gate import novelty_of, raw_task
from camelid.stages.instructions.parsers import parse_input_first, parse_output_first

STAGE = "self-instruct"
NO_INSTANCE = "no usable instance"  # the reason's start for an instruction dropped for them
FLAG = "is_classification"


def continues(prompt: Prompt) -> str:
    """The open last line of a raw prompt: the reply continues it ("Class label:")."""
    return prompt.rsplit("\n", 1)[-1] if isinstance(prompt, str) else ""


@dataclass
class InstancePacks:
    classify: Pack
    input_first: Pack
    output_first: Pack
    seed: int | None = None

    def sampling(self, pack: Pack) -> Sampling:
        return pack.sampling.merged(seed=self.seed)

    def lineage(self, pack: Pack, model: str | None) -> LineageEntry:
        return pack.lineage(STAGE + ".instances", model, self.sampling(pack))

    def request(self, pack: Pack, task: Record) -> Request:
        return Request(pack.render(task), f"{pack.name}:{task.instruction}", self.sampling(pack))


@dataclass
class Classify(ModelStage):
    packs: InstancePacks
    engine: Engine
    name: str = STAGE

    def requests(self, record: Record) -> list[Request] | Reject:
        return [self.packs.request(self.packs.classify, record)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        result = replies[0].result
        # A reply that is neither Yes nor No (or none at all) counts as No: input-first suits
        # any task.
        yes = False
        if result.error is None and result.generations:
            parsed = self.packs.classify.parse(result.generations[0].text)
            yes = bool(parsed.value and parsed.value["answer"] == "Yes")
        return with_extras(record, **{FLAG: yes})


@dataclass
class WriteInstances(ModelStage):
    packs: InstancePacks
    engine: Engine
    name: str = STAGE

    def pack_for(self, record: Record) -> Pack:
        clf = bool((record.model_extra or {}).get(FLAG))
        return self.packs.output_first if clf else self.packs.input_first

    def requests(self, record: Record) -> list[Request] | Reject:
        return [self.packs.request(self.pack_for(record), record)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        pack, result = self.pack_for(record), replies[0].result
        clf = pack is self.packs.output_first
        if result.error is not None or not result.generations:
            return self.reject(record, ["no reply from the model"])
        gen = result.generations[0]
        parse = parse_output_first if clf else parse_input_first
        pairs, dropped = parse(continues(pack.render(record)) + gen.text,
                               finish_reason=gen.finish_reason)  # fmt: skip
        kept, rejected = filter_instances(pairs, record.instruction or "")
        if not kept:
            return self.reject(record, [d.reason for d in dropped] + [r for _, r in rejected])
        first_input, first_output = kept[0]
        model = self.engine.model
        lineage = [*(record.lineage or []), self.packs.lineage(self.packs.classify, model),
                   self.packs.lineage(pack, model)]  # fmt: skip
        return make_record(
            instruction=record.instruction,
            input=first_input,
            output=first_output,
            source=record.source,
            lineage=lineage,
            tags=["classification"] if clf else None,
            instances=[{"input": i, "output": o} for i, o in kept],
            is_classification=clf,
            **novelty_of(record),
        )

    def reject(self, record: Record, reasons: list[str]) -> Reject:
        why = "; ".join(sorted(set(reasons))) or "no instances in the reply"
        return Reject(STAGE, f"{NO_INSTANCE} ({why})", record=raw_task(record))
