"""`evolve`'s run: rounds of evolution, each over the survivors of the round before.

Round 1 evolves the input records, round r the evolutions kept in round r-1. Every batch of a
round is committed as it finishes; the journal marks each parent done as "ROUND:ID" and keeps
the batch's round and counts as its state. A resumed run rebuilds each round's parents from the
input and the evolutions the output already holds (their lineage names the round), and skips
the parents the journal lists, so it ends with the records of an uninterrupted run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from camelid.engines import Engine, EngineOptions
from camelid.packs import Pack
from camelid.records import LineageEntry, Outcome, Record, Reject, reason_group, with_extras
from camelid.runtime import BEFORE_LOADING, RESUME_KEYS, Chain, Run, RunOptions, batched
from camelid.runtime.engine import model_name, open_engine, protect_stdout
from camelid.sampling import Sampling
from camelid.stages.evolve.operations import Operation
from camelid.stages.evolve.stage import STAGE, Answer, EqualJudge, Evolve, evolve_round


@dataclass
class Plan:
    pack: Pack
    sampling: Sampling
    equal_pack: Pack
    equal_sampling: Sampling
    answer_pack: Pack
    answer_sampling: Sampling
    operations: tuple[Operation, ...]
    rounds: int = 1
    respond: bool = False
    keep_originals: bool = False
    batch_size: int = 256


@dataclass
class Tally:
    """Per round: parents evolved, evolutions kept, and drops per reason (over resumes too)."""

    rounds: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, number: int, parents: int, kept: int, reasons: dict[str, int]) -> None:
        row = self.rounds.setdefault(number, {"parents": 0, "kept": 0, "dropped": {}})
        row["parents"] += parents
        row["kept"] += kept
        row["dropped"] = dict(Counter(row["dropped"]) + Counter(reasons))


def settings_entries(plan: Plan, model: str | None) -> list[LineageEntry]:
    """What a resumed output must have been written with: each stage's pack, model, sampling."""
    operations = [op.name for op in plan.operations]
    return [
        with_extras(plan.pack.lineage(STAGE, model, plan.sampling), operations=operations),
        plan.equal_pack.lineage(f"{STAGE}.equal", model, plan.equal_sampling),
        plan.answer_pack.lineage(f"{STAGE}.answer", model, plan.answer_sampling),
    ]


def run_evolve(options: RunOptions, engine_options: EngineOptions, paths: list[str],
               plan: Plan) -> None:  # fmt: skip
    protect_stdout()
    with Run(STAGE, options, resumable=True) as run:
        records = run.read_all(paths)
        known = model_name(engine_options)
        keys = RESUME_KEYS if known else BEFORE_LOADING
        run.check_settings(settings_entries(plan, known), (*keys, "operations"))
        if not records:
            return
        with open_engine(engine_options, quiet=options.quiet) as engine:
            stages = build_stages(plan, engine)
            run.check_settings(settings_entries(plan, engine.model), (*RESUME_KEYS, "operations"))
            evolve_rounds(run, plan, stages, records)


def build_stages(plan: Plan, engine: Engine) -> list:
    return [
        Evolve(plan.pack, engine, plan.sampling, operations=plan.operations),
        EqualJudge(plan.equal_pack, engine, plan.equal_sampling),
        Answer(plan.answer_pack, engine, plan.answer_sampling, respond=plan.respond),
    ]


def evolve_rounds(run: Run, plan: Plan, stages: list, originals: list[Record]) -> Tally:
    """Rounds 1..plan.rounds, batch by batch, each committed; returns the per-round counts."""
    evolve, equal, answer = stages
    chain = Chain(stages)
    done = run.done
    tally = Tally()
    for state in run.states():
        tally.add(state["round"], state["parents"], state["kept"], state["dropped"])
    input_ids = {r.id for r in originals}
    made = [r for r in run.existing if r.id not in input_ids and evolve_round(r)]
    seen = input_ids | {r.id for r in made}  # an evolution that repeats one of these is dropped
    parents = originals
    for number in range(1, plan.rounds + 1):
        evolve.round = number
        todo = [p for p in parents if f"{number}:{p.id}" not in done]
        todo = list({p.id: p for p in todo}.values())  # a record given twice is evolved once
        run.track(len(todo))
        survivors = [r for r in made if evolve_round(r) == number]
        for batch in batched(todo, plan.batch_size):
            outcomes = unique(chain(batch), seen)
            kept = [o for o in outcomes if isinstance(o, Record)]
            reasons = Counter(reason_group(o.reason) for o in outcomes if isinstance(o, Reject))
            passed = (
                [p for p in batch if p.instruction] if plan.keep_originals and number == 1 else []
            )
            state = {"round": number, "parents": len(batch), "kept": len(kept),
                     "dropped": dict(reasons)}  # fmt: skip
            run.commit([*passed, *outcomes], done=[f"{number}:{p.id}" for p in batch],
                       state=state)  # fmt: skip
            tally.add(number, len(batch), len(kept), dict(reasons))
            survivors += kept
        row = tally.rounds.get(number, {"parents": 0, "kept": 0, "dropped": {}})
        run.note(f"round {number}: {row['parents']} parents, kept {row['kept']} evolutions, "
                 f"dropped {sum(row['dropped'].values())}")  # fmt: skip
        parents = survivors
        if not parents:
            break
    run.stats |= {"rounds": {str(k): v for k, v in sorted(tally.rounds.items())},
                  "equal_votes_split": equal.split, "answers_cut_off": answer.cut}  # fmt: skip
    return tally


def unique(outcomes: list[Outcome], seen: set[str]) -> list[Outcome]:
    """Evolutions that repeat a record of the run (another parent's evolution, an input) are
    dropped: the same instruction twice is one record."""
    out: list[Outcome] = []
    for item in outcomes:
        if isinstance(item, Record):
            if item.id in seen:
                item = Reject.of(STAGE, "duplicate: the same instruction as another record", item)
            else:
                seen.add(item.id)
        out.append(item)
    return out
