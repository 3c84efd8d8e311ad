"""Self-Instruct / Alpaca bootstrapping: rounds of prompts built from the pool, until --target.

Each round samples in-context tasks (by default 6 human seeds and 2 generated ones, as
Self-Instruct did; Alpaca shows 3 seeds), asks the model to continue the list, and passes every
new task through the gate (filters, then novelty). Everything a round uses is drawn from a
generator seeded by (seed, round), so a resumed run continues the same sequence of rounds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from camelid.engines.base import Engine, Generation, record_seed
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import LineageEntry, Record, make_record
from camelid.sampling import Sampling
from camelid.stages.instances import InstanceMaker, continues
from camelid.stages.instruction_filters import (
    instance_reject,
    parse_alpaca_batch,
    parse_task_list,
)
from camelid.stages.instruction_pool import InstructionGate, clean_instruction

STAGE = "self-instruct"
NO_INSTANCE = "no usable instance"  # the reason's start for an instruction dropped for them


@dataclass
class Settings:
    target: int
    human_examples: int = 6
    machine_examples: int = 2
    classification_share: float = 0.0  # share of prompts using the classification variant
    max_prompts: int = 0  # the bound: prompts sent before giving up (0: 20 per target task)
    batch_size: int = 256
    seed: int = 0

    @property
    def prompt_budget(self) -> int:
        return self.max_prompts or max(50, 20 * self.target)


@dataclass
class Round:
    number: int
    prompts: int
    kept: list[Record] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class Bootstrap:
    pack: Pack
    engine: Engine
    sampling: Sampling
    gate: InstructionGate
    human: list[Record]
    settings: Settings
    instances: InstanceMaker | None = None
    machine: list[Record] = field(default_factory=list)  # generated tasks kept so far
    model: str | None = None

    @property
    def alpaca(self) -> bool:
        return self.pack.manifest.parser.type == "alpaca_batch"

    def rounds(self, start: int = 0, kept: int = 0) -> Iterator[Round]:
        """Rounds until `kept` reaches the target or the prompt budget is spent."""
        s = self.settings
        sent = 0
        number = start
        while kept < s.target and sent < s.prompt_budget:
            size = min(
                s.batch_size, s.prompt_budget - sent, max(4, math.ceil((s.target - kept) / 2))
            )
            result = self.run_round(number, size)
            result.kept = result.kept[: s.target - kept]
            kept += len(result.kept)
            sent += size
            number += 1
            yield result

    def run_round(self, number: int, size: int) -> Round:
        rng = random.Random(f"{self.settings.seed}:{number}")
        variants = [rng.random() < self.settings.classification_share for _ in range(size)]
        prompts = [
            self.pack.render(Record(), tasks=self._examples(rng, v), classification=v)
            for v in variants
        ]
        seeds = [record_seed(self.settings.seed, f"{STAGE}:{number}:{i}") for i in range(size)]
        results = self.engine.generate(prompts, self.sampling, seeds)
        lineage = self.pack.lineage(STAGE, self.model, self.sampling)
        entry = LineageEntry(**lineage.model_dump(), round=number)
        out = Round(number, size)
        candidates: list[tuple[Record, bool]] = []
        for prompt, result in zip(prompts, results, strict=True):
            if result.error is not None:
                out.rejects.append(Reject(STAGE, result.error))
                continue
            self._parse(continues(prompt), result.generations[0], candidates, out)
        admitted: list[tuple[Record, dict[str, Any]]] = []
        for task, truncated in candidates:
            verdict = self.gate.admit(task.instruction or "", truncated=truncated)
            if isinstance(verdict, str):
                out.rejects.append(Reject(STAGE, verdict, record=_raw(task)))
            else:
                admitted.append((task, verdict))
        if self.instances is not None and admitted:
            out.kept = self._with_instances(admitted, entry, out.rejects)
        else:
            out.kept = [_final(task, novelty, [entry]) for task, novelty in admitted]
        self.machine.extend(out.kept)
        return out

    def _examples(self, rng: random.Random, classification: bool) -> list[dict[str, str]]:
        """In-context tasks: up to `machine_examples` generated ones, the rest human, shuffled."""

        def pick(records: list[Record]) -> list[Record]:
            chosen = [r for r in records if is_classification(r)] if classification else records
            return chosen or records

        s = self.settings
        machine = pick(self.machine)
        tasks = rng.sample(machine, min(s.machine_examples, len(machine)))
        human = pick(self.human)
        tasks += rng.sample(
            human, min(s.human_examples + s.machine_examples - len(tasks), len(human))
        )
        rng.shuffle(tasks)
        return [_task_dict(t) for t in tasks]

    def _parse(
        self, head: str, gen: Generation, into: list[tuple[Record, bool]], out: Round
    ) -> None:
        if self.alpaca:
            records, dropped = parse_alpaca_batch(
                gen.text, finish_reason=gen.finish_reason, prefix=head
            )
            for d in dropped:
                out.rejects.append(Reject(STAGE, d.reason, record={"text": d.text}))
            for r in records:
                task = r.model_copy(update={"instruction": clean_instruction(r.instruction or "")})
                reason = instance_reject(
                    task.input or "", task.output or "", task.instruction or ""
                )
                if reason:
                    out.rejects.append(Reject(STAGE, reason, record=_raw(task)))
                else:
                    into.append((task, False))
            return
        for item in parse_task_list(head + gen.text, finish_reason=gen.finish_reason):
            into.append((Record(instruction=clean_instruction(item.text)), item.truncated))

    def _with_instances(
        self,
        admitted: list[tuple[Record, dict[str, Any]]],
        entry: LineageEntry,
        rejects: list[Reject],
    ) -> list[Record]:
        assert self.instances is not None
        made = self.instances.make([task for task, _ in admitted])
        classify, input_first, output_first = self.instances.lineage(self.model)
        kept = []
        for (task, novelty), inst in zip(admitted, made, strict=True):
            if not inst.kept:
                why = "; ".join(sorted(set(inst.reasons))) or "no instances in the reply"
                rejects.append(Reject(STAGE, f"{NO_INSTANCE} ({why})", record=_raw(task)))
                continue
            (first_input, first_output) = inst.kept[0]
            used = output_first if inst.is_classification else input_first
            task = task.model_copy(update={"input": first_input, "output": first_output})
            kept.append(
                _final(
                    task,
                    novelty,
                    [entry, classify, used],
                    tags=["classification"] if inst.is_classification else None,
                    instances=[{"input": i, "output": o} for i, o in inst.kept],
                    is_classification=inst.is_classification,
                )
            )
        return kept


def _final(
    task: Record, novelty: dict[str, Any], lineage: list[LineageEntry], **extra: Any
) -> Record:
    """The record written out: content first, then lineage, then the bookkeeping fields."""
    return make_record(
        instruction=task.instruction,
        input=task.input,
        output=task.output,
        source="generated",
        lineage=lineage,
        **extra,
        **novelty,
    )


def is_classification(record: Record) -> bool:
    extra = (record.model_extra or {}).get("is_classification")
    return bool(extra) or "classification" in (record.tags or [])


def _task_dict(record: Record) -> dict[str, str]:
    return {
        "instruction": clean_instruction(record.instruction or ""),
        "input": (record.input or "").strip(),
        "output": (record.output or "").strip(),
    }


def _raw(task: Record) -> dict[str, str]:
    return {k: v for k, v in _task_dict(task).items() if v}
