"""The stage protocol: a batch of records in, what the stage made of each out, in order.

Every step that turns records into records is a stage, from `filter`'s checks to a judge that
calls a model. A stage that needs a model receives an engine when it is built and never builds
one; loops that need rounds (self-instruct's pool, red-team topics) are generators of batches
around stages. The runtime (runtime.run) drives them all the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from camelid.records import LineageEntry, Outcome, Record, Reject


class Stage(Protocol):
    name: str

    @property
    def lineage(self) -> LineageEntry | None:
        """The entry the stage appends to what it makes: pack, model, sampling, seed."""
        ...

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        """For each record of the batch, in order, what became of it: one or more records, or
        a reject with its reason. A record's failure never fails its neighbours."""
        ...


@dataclass
class Chain:
    """Stages one after another: each gets the records the previous one made; rejects go
    straight to the output, in the order they arose."""

    stages: Sequence[Stage]

    @property
    def name(self) -> str:
        return self.stages[0].name

    @property
    def lineage(self) -> LineageEntry | None:
        return self.stages[0].lineage

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        rejects: list[Reject] = []
        records = batch
        for stage in self.stages:
            if not records:
                break
            made = stage(records)
            rejects += [o for o in made if isinstance(o, Reject)]
            records = [o for o in made if isinstance(o, Record)]
        return [*records, *rejects]


def batched(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch
