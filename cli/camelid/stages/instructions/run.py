"""`self-instruct`'s run: seeds read, the pool rebuilt (resumed runs: from the output and the
journal), then rounds until --target (see bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from camelid.engines import EngineOptions
from camelid.packs import Pack
from camelid.runtime import BEFORE_LOADING, Run, RunOptions
from camelid.runtime.engine import open_engine, protect_stdout
from camelid.sampling import Sampling
from camelid.stages.instructions.bootstrap import (
    Bootstrap,
    Propose,
    Settings,
    is_classification,
    read_seeds,
    resumed_pool,
    run_bootstrap,
)
from camelid.stages.instructions.gate import GateSettings, NoveltyGate, clean_instruction
from camelid.stages.instructions.instances import (
    STAGE,
    Classify,
    InstancePacks,
    WriteInstances,
)


@dataclass
class Plan:
    pack: Pack
    sampling: Sampling
    rules: GateSettings
    instances: InstancePacks | None  # None: no instances (Alpaca, or --no-instances)
    settings: Settings  # classification_share < 0: the share of classification seeds


def run_self_instruct(options: RunOptions, engine_options: EngineOptions, paths: list[str],
                      plan: Plan) -> None:  # fmt: skip
    protect_stdout()  # before the output opens: the engine comes later, inside the run
    settings, target = plan.settings, plan.settings.target
    with Run(STAGE, options, resumable=True) as run:
        run.check_settings([plan.pack.lineage(STAGE, None, plan.sampling)], BEFORE_LOADING)
        human = read_seeds(run, paths)
        machine = [r for r in run.existing if any(e.stage == STAGE for e in r.lineage or [])]
        if len(machine) >= target:
            run.note(f"{options.output} already holds {len(machine)} of {target} instructions")
            return
        if settings.classification_share < 0:
            settings.classification_share = sum(map(is_classification, human)) / len(human)
        with open_engine(engine_options, quiet=options.quiet) as engine:
            propose = Propose(plan.pack, engine, plan.sampling, plan.rules)
            run.check_settings([propose.lineage])
            pool = [clean_instruction(r.instruction or "") for r in [*human, *machine]]
            gate = NoveltyGate(STAGE, plan.rules, pool + resumed_pool(run))
            packs = plan.instances
            stages = [Classify(packs, engine), WriteInstances(packs, engine)] if packs else []
            boot = Bootstrap(propose, gate, human, settings, stages, machine=list(machine))
            run_bootstrap(run, boot, target)
