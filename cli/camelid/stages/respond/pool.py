"""Model pools: `--model A --model NAME=B ...`, each answering a share of a record's completions.

A spec is a model (built-in name, directory or hub id), optionally with the name its answers
are recorded under: `NAME=MODEL`. Names let one model appear twice (say, at two settings, or
as a stand-in for a second model in a test) and keep long paths out of the records.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass

from camelid.engines import Engine, EngineOptions
from camelid.errors import UsageError
from camelid.runtime import BEFORE_LOADING, Run, RunOptions
from camelid.runtime.engine import open_engine, protect_stdout
from camelid.stages.respond.stage import STAGE, Responder, answer_with_pool, dropped_note

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class PoolModel:
    name: str  # recorded in completions[].model
    source: str | None  # what the engine loads; None: the engine's default


def parse_model(spec: str) -> PoolModel:
    """`MODEL` or `NAME=MODEL`. A path such as `runs/lr=3e-4` stays a model: NAME has no '/'."""
    name, sep, source = spec.partition("=")
    if sep and _NAME.match(name):
        if not source:
            raise UsageError(f"--model {spec}: no model after '{name}='")
        return PoolModel(name, source)
    return PoolModel(spec, spec)


def parse_pool(specs: list[str]) -> list[PoolModel]:
    """The pool, checked before any model is loaded."""
    pool = [parse_model(spec) for spec in specs]
    seen: set[str] = set()
    for model in pool:
        if model.name in seen:
            raise UsageError(
                f"--model: {model.name!r} is given twice; name each one, e.g. "
                f"--model {model.name} --model other={model.source}"
            )
        seen.add(model.name)
    return pool


def run_pool(
    options: RunOptions,
    engine_options: EngineOptions,
    paths: list[str],
    responder: Responder,
    pool: list[PoolModel],
) -> None:
    """Every record through each model of the pool in turn, each loaded once; the answered
    records are written when the last model is done."""
    protect_stdout()  # before the output opens: engines load (and may print) inside the run
    with Run(STAGE, options, resumable=True) as run:
        records = run.read_all(paths)
        run.check_settings([responder.lineage], BEFORE_LOADING)
        todo = list(run.pending(records))
        run.track(len(todo))

        def open_model(index: int) -> AbstractContextManager[Engine]:
            run.note(f"respond: model {index + 1} of {len(pool)}: {pool[index].name}")
            return open_engine(engine_options, pool[index].source, quiet=options.quiet)

        outcomes = answer_with_pool(todo, responder, open_model, engine_options.batch_size)
        run.commit(outcomes, done=[r.id for r in todo])
        if note := dropped_note(responder.dropped):
            run.note(note)
