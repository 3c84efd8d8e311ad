"""Run a pack over records in batches: render, generate, hand each result back to the stage.

Records are sent to the engine a batch at a time (large batches let vLLM's continuous batching
and prefix cache do the work) and come out in input order, so a batch can be flushed as a unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from camelid.engines.base import Engine, Result, record_seed
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import Record
from camelid.sampling import Sampling

Apply = Callable[[Record, Result], Record | Reject]


def batched(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def run_pack(
    records: Iterable[Record],
    pack: Pack,
    engine: Engine,
    sampling: Sampling,
    apply: Apply,
    stage: str,
    batch_size: int = 256,
) -> Iterator[list[Record | Reject]]:
    """For each batch of input records, the list of what the stage made of them, in order."""
    for batch in batched(records, batch_size):
        out: list[Record | Reject | None] = [None] * len(batch)
        todo: list[int] = []
        for i, record in enumerate(batch):
            missing = pack.missing_inputs(record)
            if missing:
                reason = f"lacks {', '.join(missing)}, which pack {pack.name} needs"
                out[i] = Reject(stage, reason, record=record, where=record._where or None)
            else:
                todo.append(i)
        prompts = [pack.render(batch[i]) for i in todo]
        seeds = None
        if sampling.seed is not None:
            seeds = [record_seed(sampling.seed, batch[i].id) for i in todo]
        results = engine.generate(prompts, sampling, seeds) if prompts else []
        for i, result in zip(todo, results, strict=True):
            record = batch[i]
            if result.error is not None:
                out[i] = Reject(stage, result.error, record=record, where=record._where or None)
            else:
                out[i] = apply(record, result)
        yield [item for item in out if item is not None]
