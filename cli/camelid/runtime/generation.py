"""How a generation command runs a model stage over its input records, for every such command.

Input read whole (a bad line stops the run before a model loads), settings checked against a
resumed file before loading and again once the engine names its model, the engine opened only
when there is something left to do, then batch after batch committed as it finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from camelid.engines import Engine, EngineOptions
from camelid.records import LineageEntry, Record
from camelid.runtime.engine import model_name, open_engine, protect_stdout
from camelid.runtime.resume import BEFORE_LOADING, RESUME_KEYS
from camelid.runtime.run import Run, RunOptions
from camelid.runtime.stage import Stage, batched

After = Callable[[Run, Any], None]  # reports what the stage counted, before the summary


def process(run: Run, stage: Stage, records: Sequence[Record], batch_size: int) -> None:
    """Each batch through the stage and onto the output, the journal marking it done."""
    run.track(len(records))
    for batch in batched(records, batch_size):
        run.commit(stage(batch), done=[r.id for r in batch])


def run_generation(
    command: str,
    options: RunOptions,
    engine_options: EngineOptions,
    paths: list[str],
    settings: LineageEntry,
    build: Callable[[Engine, list[Record]], Stage],
    model: str | None = None,
    after: After | None = None,
    label: str | None = None,
) -> None:
    """`build`: the stage, given the engine and the records it will see;
    `settings`: the stage's lineage entry as known before loading (its model left None);
    `model`: the model to load (default: the engine options'); `label`: the name lineage
    records for it when that is not the model's own (respond's --model NAME=MODEL)."""
    protect_stdout()  # before the output opens: the engine loads (and may print) inside the run
    with Run(command, options, resumable=True) as run:
        records = run.read_all(paths)
        known = label or model_name(engine_options, model)
        keys = RESUME_KEYS if known else BEFORE_LOADING
        run.check_settings([settings.model_copy(update={"model": known})], keys)
        todo = list(run.pending(records))
        if not todo and known:
            return  # all done already: no model to load
        with open_engine(engine_options, model, quiet=options.quiet) as engine:
            stage = build(engine, todo)
            if stage.lineage is not None:
                run.check_settings([stage.lineage])
            process(run, stage, todo, engine_options.batch_size)
            if after is not None:
                after(run, stage)
