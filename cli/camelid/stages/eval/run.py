"""`camelid eval` on the stage runtime: prompts read, settings checked, answers found (or
written by the two models), then judged batch by batch, each batch committed as it finishes;
the figures cover every judgement in the output, a resumed run's earlier ones too."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from typing import Any

from camelid.engines import Engine, EngineOptions
from camelid.packs import Pack
from camelid.records import LineageEntry, Record, with_extras
from camelid.runtime import BEFORE_LOADING, RESUME_KEYS, Run, RunOptions
from camelid.runtime.engine import model_name, open_engine, protect_stdout
from camelid.runtime.generation import process
from camelid.sampling import Sampling
from camelid.stages.eval.answers import AnswerFile, Pairs, pair_from_files, pair_from_models
from camelid.stages.eval.stage import STAGE, EvalJudge, read_outcome
from camelid.stages.eval.statistics import Figures, figures
from camelid.stages.respond.pool import PoolModel


class Engines:
    """One engine open at a time. Asking for another model closes the open one; asking for the
    same one again keeps it: A, B and the judge are often one model, and a load costs ~30 s."""

    def __init__(self, options: EngineOptions, quiet: bool) -> None:
        self.options, self.quiet = options, quiet
        self._stack: ExitStack | None = None
        self._engine: Engine | None = None
        self._key: str | None = None

    def open(self, model: str | None) -> Engine:
        key = model_name(self.options, model) or model
        if self._engine is not None and key == self._key:
            return self._engine
        self.close()
        stack = ExitStack()
        self._engine = stack.enter_context(open_engine(self.options, model, quiet=self.quiet))
        self._stack, self._key = stack, key
        return self._engine

    def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._engine = self._stack, None, None
            stack.close()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class Sources:
    """Where A's and B's answers come from."""

    names: tuple[str, str]
    find: Callable[[list[Record], Run, Engines], Pairs]
    settings: LineageEntry | None = None  # how the answers are written, when they are


def from_files(a: AnswerFile, b: AnswerFile) -> Sources:
    return Sources((a.name, b.name), lambda prompts, _run, _engines: pair_from_files(prompts, a, b))


def from_models(pool: list[PoolModel], pack: Pack, sampling: Sampling, batch_size: int) -> Sources:
    names = [m.name for m in pool]

    def find(prompts: list[Record], run: Run, engines: Engines) -> Pairs:
        def open_model(index: int) -> Any:
            run.note(f"eval: answers from {'AB'[index]} = {names[index]}")
            return nullcontext(engines.open(pool[index].source))

        return pair_from_models(prompts, pack, sampling, names, open_model, batch_size)

    settings = pack.lineage(f"{STAGE} answers", None, sampling.merged(n=1))
    settings = with_extras(settings, models={"A": pool[0].source, "B": pool[1].source})
    return Sources((names[0], names[1]), find, settings)


def run_eval(
    options: RunOptions,
    engine_options: EngineOptions,
    paths: list[str],
    pack: Pack,
    sampling: Sampling,
    judge_model: str | None,
    sources: Sources,
    resamples: int,
) -> None:
    protect_stdout()  # before the output opens: engines load (and may print) inside the run
    with (
        Run(STAGE, options, resumable=True) as run,
        Engines(engine_options, options.quiet) as engines,
    ):
        prompts = run.read_all(paths)
        known = model_name(engine_options, judge_model)
        entries = [pack.lineage(STAGE, known, sampling)]
        entries += [sources.settings] if sources.settings else []
        run.check_settings(entries, RESUME_KEYS if known else BEFORE_LOADING)
        todo = list(run.pending(prompts))
        judge = None
        if todo:
            pairs = sources.find(todo, run, engines)
            judge = EvalJudge(pack, engines.open(judge_model), sampling, pairs=pairs,
                              names=sources.names, answered=sources.settings)  # fmt: skip
            run.check_settings([judge.lineage])
            process(run, judge, todo, engine_options.batch_size)
        report(run, judge, sources.names, known, resamples, engine_options.seed)


def report(
    run: Run,
    judge: EvalJudge | None,
    names: tuple[str, str],
    judge_name: str | None,
    resamples: int,
    seed: int,
) -> None:
    """The figures over every judgement in the output: to --stats, and a table on stderr."""
    earlier = [found for r in run.existing if (found := read_outcome(r)) is not None]
    outcomes = [o for o, _, _ in earlier] + (judge.outcomes if judge else [])
    lengths = [(a, b) for _, a, b in earlier] + (judge.lengths if judge else [])
    made = figures(outcomes, [a for a, _ in lengths], [b for _, b in lengths], resamples, seed)
    if judge is not None:
        judge_name = judge.engine.model
    run.stats |= {"a": names[0], "b": names[1], "judge": judge_name} | made.to_dict()
    run.stats["bootstrap"] = {"resamples": resamples, "seed": seed, "confidence": 0.95}
    run.stats["judge_failures"] = judge.failed if judge else 0
    for line in table(made, names, judge_name):
        run.note(line)


def table(made: Figures, names: tuple[str, str], judge: str | None) -> list[str]:
    head = f"eval: A = {names[0]} against B = {names[1]}, judged by {judge or '?'}"
    if made.win_rate is None:
        return [head, "  no prompt was judged: no win rate"]
    low, high = made.interval or (made.win_rate, made.win_rate)
    if low > 0.5:
        verdict = "A is better (the 95% interval lies above 50%)"
    elif high < 0.5:
        verdict = "B is better (the 95% interval lies below 50%)"
    else:
        verdict = "no difference shown (the 95% interval covers 50%)"
    return [
        head,
        f"  prompts               {made.prompts}",
        f"  wins / losses / ties  {made.wins} / {made.losses} / {made.ties}",
        f"  win rate of A         {pct(made.win_rate)}  95% interval {pct(low)} to {pct(high)}",
        f"  length-controlled     {pct(made.lc_win_rate)}  length slope {made.length_slope:+.2f}",
        f"  {verdict}",
    ]


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
