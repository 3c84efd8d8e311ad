"""Stages that call a model: the one place where prompts are seeded and sent to the engine.

A model stage says what it asks for each record (`requests`) and what it makes of the replies
(`finish`); this module renders nothing itself, but sends every request of a batch to the engine
at once (requests that share sampling settings go together, so vLLM batches them and reuses
their common prefix), each with a seed of its own derived from the run's seed and the request's
key. A record's result then depends on its own content only, never on which records shared its
batch: what makes resumed runs, other batch sizes and other executors give the same records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from camelid.engines.base import Engine, Prompt, Result, record_seed
from camelid.packs import Pack
from camelid.records import LineageEntry, Outcome, Record, Reject, with_extras
from camelid.sampling import Sampling


@dataclass
class Request:
    prompt: Prompt
    key: str  # seeds the request: the same key gives the same seed, whatever the batch
    sampling: Sampling
    note: Any = None  # what `finish` needs to read the reply (an aspect, a slot, a model)


@dataclass
class Reply:
    request: Request
    result: Result


def generate(engine: Engine, requests: Sequence[Request]) -> list[Result]:
    """One result per request, in order; requests with equal sampling go to the engine together."""
    groups: dict[str, list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(request.sampling.model_dump_json(), []).append(i)
    results: list[Result | None] = [None] * len(requests)
    for members in groups.values():
        sampling = requests[members[0]].sampling
        seeds = None
        if sampling.seed is not None:
            seeds = [record_seed(sampling.seed, requests[i].key) for i in members]
        found = engine.generate([requests[i].prompt for i in members], sampling, seeds)
        for i, result in zip(members, found, strict=True):
            results[i] = result
    return [r if r is not None else Result(error="not run") for r in results]


def model_lineage(pack: Pack, stage: str, engine: Engine, sampling: Sampling) -> LineageEntry:
    """The lineage entry of a stage that runs `pack` on `engine`, its dtype included."""
    entry = pack.lineage(stage, engine.model, sampling)
    dtype = getattr(engine, "dtype", None)
    return with_extras(entry, dtype=dtype) if dtype else entry


def lacks_inputs(pack: Pack, record: Record, stage: str) -> Reject | None:
    """The reject of a record that lacks a field the pack needs (None when it has them all)."""
    if missing := pack.missing_inputs(record):
        return Reject.of(stage, f"lacks {', '.join(missing)}, which pack {pack.name} needs", record)
    return None


class ModelStage(ABC):
    """A stage whose records become requests to a model, and the replies records again."""

    name: str
    engine: Engine

    @property
    def lineage(self) -> LineageEntry | None:
        return None

    @abstractmethod
    def requests(self, record: Record) -> list[Request] | Reject:
        """What to ask the model for this record, or why it cannot be asked."""

    @abstractmethod
    def finish(self, record: Record, replies: list[Reply]) -> Outcome | list[Outcome]:
        """What the record becomes, given the replies to its requests (in request order)."""

    def collect(self, batch: list[Record]) -> list[list[Reply] | Reject]:
        """Every record's replies (or why it was not asked), all requests sent at once."""
        plans = [self.requests(record) for record in batch]
        flat = [r for plan in plans if not isinstance(plan, Reject) for r in plan]
        results = iter(generate(self.engine, flat) if flat else [])
        return [
            plan if isinstance(plan, Reject) else [Reply(r, next(results)) for r in plan]
            for plan in plans
        ]

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for record, replies in zip(batch, self.collect(batch), strict=True):
            made = replies if isinstance(replies, Reject) else self.finish(record, replies)
            out.extend(made if isinstance(made, list) else [made])
        return out


@dataclass
class PackStage(ModelStage):
    """A model stage that runs one pack: its lineage names the stage, pack, model, sampling."""

    pack: Pack
    engine: Engine
    sampling: Sampling

    @property
    def lineage(self) -> LineageEntry:
        return model_lineage(self.pack, self.name, self.engine, self.sampling)
