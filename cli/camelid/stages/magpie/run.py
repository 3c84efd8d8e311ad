"""`magpie`'s run: N empty slots, each through query -> rule checks -> answer -> quality judge
(-> the next turns), committed batch by batch; a resumed run skips the slots the journal holds."""

from __future__ import annotations

from dataclasses import dataclass

from camelid.engines import Engine, EngineOptions
from camelid.packs import Pack
from camelid.runtime import BEFORE_LOADING, Chain, Run, RunOptions, Stage
from camelid.runtime.engine import model_name, open_engine, protect_stdout
from camelid.runtime.generation import process
from camelid.sampling import Sampling
from camelid.stages.magpie.filters import Rules
from camelid.stages.magpie.stages import STAGE, Answerer, Finish, MinQuality, QueryWriter, slot
from camelid.stages.magpie.template import ChatTemplate


@dataclass
class Plan:
    n: int
    template: ChatTemplate
    query_sampling: Sampling
    answer_sampling: Sampling
    rules: Rules
    system: str | None = None
    turns: int = 1
    judge: Pack | None = None  # None: queries are not rated
    judge_sampling: Sampling | None = None
    scoring: str = "expected"
    min_quality: float = 0.0


def build_stages(plan: Plan, engine: Engine) -> list[Stage]:
    stages: list[Stage] = []
    for turn in range(1, plan.turns + 1):
        stages += [
            QueryWriter(plan.template, engine, plan.query_sampling, plan.rules, plan.system, turn),
            Answerer(engine, plan.answer_sampling, plan.rules, plan.system, turn),
        ]
        if turn == 1 and plan.judge is not None:
            from camelid.stages.score import Judge

            assert plan.judge_sampling is not None
            stages += [
                Judge(
                    plan.judge,
                    engine,
                    plan.judge_sampling,
                    scoring=plan.scoring,
                    name=STAGE + ".quality",
                ),  # fmt: skip
                MinQuality(plan.min_quality),
            ]
    return [*stages, Finish()]


def run_magpie(options: RunOptions, engine_options: EngineOptions, plan: Plan) -> None:
    protect_stdout()  # before the output opens: the engine loads (and may print) inside the run
    with Run(STAGE, options, resumable=True) as run:
        known = model_name(engine_options)
        before = [s.lineage for s in build_stages(plan, _Unloaded(known)) if s.lineage]
        run.check_settings(before, BEFORE_LOADING)
        todo = list(run.pending(slot(i) for i in range(plan.n)))
        run.stats["queries"] = plan.n
        if not todo:
            return
        with open_engine(engine_options, quiet=options.quiet) as engine:
            stages = build_stages(plan, engine)
            run.check_settings([s.lineage for s in stages if s.lineage])
            process(run, Chain(stages), todo, engine_options.batch_size)
        run.stats["kept_share"] = round(run.written / max(1, len(todo)), 3)


class _Unloaded:
    """Stands in for the engine while the settings are checked before loading."""

    def __init__(self, model: str | None) -> None:
        self.model = model or ""

    def generate(self, *_: object) -> list:  # pragma: no cover - never called
        raise RuntimeError("not loaded")

    def close(self) -> None:  # pragma: no cover
        pass
