"""Self-Instruct / Alpaca bootstrapping: rounds of prompts built from the pool, until --target.

Each round samples in-context tasks (by default 6 human seeds and 2 generated ones, as
Self-Instruct did; Alpaca shows 3 seeds) into prompt slots, and runs them through the stages:
Propose (the model continues the task list; the filters drop what they must), the novelty gate,
then optionally Classify and WriteInstances. Everything a round uses is drawn from a generator
seeded by (seed, round), so a resumed run continues the same sequence of rounds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from camelid.errors import UsageError
from camelid.records import (
    Outcome,
    Record,
    Reject,
    content_hash,
    make_record,
    with_extras,
)
from camelid.runtime import Chain, Run
from camelid.runtime.model import ModelStage, PackStage, Reply, Request
from camelid.stages.instructions.filters import instance_reject
from camelid.stages.instructions.gate import GateSettings, NoveltyGate, clean_instruction, raw_task
from camelid.stages.instructions.instances import STAGE, continues
from camelid.stages.instructions.parsers import parse_alpaca_batch, parse_task_list


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
    slots: list[Record] = field(default_factory=list)
    cut: list[Record] = field(default_factory=list)  # kept past the target: not written


@dataclass
class Propose(PackStage):
    """A prompt slot (a round's in-context tasks) -> the new tasks the model listed that pass
    the filters, each a candidate for the novelty gate."""

    rules: GateSettings
    name: str = STAGE

    @property
    def alpaca(self) -> bool:
        return self.pack.manifest.parser.type == "alpaca_batch"

    def requests(self, record: Record) -> list[Request]:
        slot = record.model_extra or {}
        prompt = self.pack.render(Record(), tasks=slot["tasks"], classification=slot["variant"])
        return [Request(prompt, f"{STAGE}:{slot['round']}:{slot['slot']}", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> list[Outcome]:
        result = replies[0].result
        if result.error is not None:
            return [Reject(STAGE, result.error)]
        gen, head = result.generations[0], continues(replies[0].request.prompt)
        entry = with_extras(self.lineage, round=(record.model_extra or {})["round"])
        out: list[Outcome] = []
        if self.alpaca:
            tasks, dropped = parse_alpaca_batch(gen.text, finish_reason=gen.finish_reason,
                                                prefix=head)  # fmt: skip
            out += [Reject(STAGE, d.reason, record={"text": d.text}) for d in dropped]
            listed = [(t, False) for t in tasks]
        else:
            items = parse_task_list(head + gen.text, finish_reason=gen.finish_reason)
            listed = [(Record(instruction=item.text), item.truncated) for item in items]
        for task, truncated in listed:
            task = make_record(instruction=clean_instruction(task.instruction or ""),
                               input=task.input, output=task.output, source="generated",
                               lineage=[entry])  # fmt: skip
            reason = None
            if self.alpaca:
                reason = instance_reject(
                    task.input or "", task.output or "", task.instruction or ""
                )
            reason = reason or self.rules.reject(task.instruction or "", truncated=truncated)
            out.append(Reject(STAGE, reason, record=raw_task(task)) if reason else task)
        return out


@dataclass
class Bootstrap:
    propose: Propose
    gate: NoveltyGate
    human: list[Record]
    settings: Settings
    instances: list[ModelStage] = field(default_factory=list)  # Classify, WriteInstances
    machine: list[Record] = field(default_factory=list)  # generated tasks kept so far

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
            result.kept, result.cut = result.kept[: s.target - kept], result.kept[s.target - kept :]
            kept += len(result.kept)
            sent += size
            number += 1
            yield result

    def run_round(self, number: int, size: int) -> Round:
        slots = self.slots(number, size)
        made = Chain([self.propose, self.gate, *self.instances])(slots)
        out = Round(number, size, slots=slots)
        out.kept = [o for o in made if isinstance(o, Record)]
        out.rejects = [o for o in made if isinstance(o, Reject)]
        self.machine.extend(out.kept)
        return out

    def slots(self, number: int, size: int) -> list[Record]:
        """The round's prompts as records: which tasks each shows, and in which variant."""
        rng = random.Random(f"{self.settings.seed}:{number}")
        variants = [rng.random() < self.settings.classification_share for _ in range(size)]
        return [
            make_record(
                id=content_hash({STAGE: number, "slot": i}),
                round=number,
                slot=i,
                variant=v,
                tasks=self._examples(rng, v),
            )  # fmt: skip
            for i, v in enumerate(variants)
        ]

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


def last_task_stop(shown: int) -> str:
    """Where a task-list reply stops: before task 16 after 8 shown, as Self-Instruct's script
    did (its stop sequences "16", "16." end the list at task 15): seven new tasks a prompt."""
    return f"Task {shown + 8}:"


def run_bootstrap(run: Run, boot: Bootstrap, target: int) -> int:
    """Rounds committed one by one (the journal keeps each round's pool additions, so a resumed
    run's pool is the uninterrupted run's); returns how many instructions the file holds."""
    states = run.states()
    start = 1 + max((s["round"] for s in states), default=-1)
    kept = len(boot.machine)
    run.track(target)
    run.progress.update(advance=kept)
    sent = 0
    for result in boot.rounds(start=start, kept=kept):
        # The pool keeps what the gate admitted but no record holds (no usable instance); a
        # task cut at the target is left out, so that a higher --target later may keep it.
        written = {r.instruction for r in [*result.kept, *result.cut]}
        pool = [text for text in boot.gate.take_added() if text not in written]
        state: dict[str, Any] = {"round": result.number, "prompts": result.prompts, "pool": pool}
        run.commit([*result.kept, *result.rejects], done=[s.id for s in result.slots],
                   state=state, advance=len(result.kept))  # fmt: skip
        kept += len(result.kept)
        sent += result.prompts
        run.note(
            f"round {result.number}: {result.prompts} prompts, kept {len(result.kept)}, "
            f"dropped {len(result.rejects)}; {kept}/{target} instructions"
        )
    if kept < target:
        run.note(
            f"{STAGE}: stopped at {kept} of {target} instructions after {sent} prompts "
            f"(the --max-prompts bound, {boot.settings.prompt_budget}); add --resume "
            "-o FILE to continue, or raise --max-prompts"
        )
    return kept


def read_seeds(run: Run, paths: list[str]) -> list[Record]:
    """The human seed tasks; a seed without an instruction goes to --rejects."""
    human = []
    for record in run.records(paths):
        if clean_instruction(record.instruction or ""):
            human.append(record)
        else:
            run.reject(Reject.of(STAGE, "seed has no instruction", record))
    if not human:
        raise UsageError(f"no seed task with an instruction in {', '.join(paths)}")
    return human


def resumed_pool(run: Run) -> list[str]:
    """Instructions a resumed run's pool holds beyond its seeds and the records written:
    those kept by the gate but dropped later (no usable instance), as the journal says."""
    return [text for state in run.states() for text in state.get("pool", [])]


def is_classification(record: Record) -> bool:
    extra = (record.model_extra or {}).get("is_classification")
    return bool(extra) or "classification" in (record.tags or [])


def _task_dict(record: Record) -> dict[str, str]:
    return {
        "instruction": clean_instruction(record.instruction or ""),
        "input": (record.input or "").strip(),
        "output": (record.output or "").strip(),
    }
