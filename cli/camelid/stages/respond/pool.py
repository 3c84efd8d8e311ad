"""Model pools: `--model A --model NAME=B ...`, each answering a share of a record's completions.

A spec is a model (built-in name, directory or hub id), optionally with the name its answers
are recorded under: `NAME=MODEL`. Names let one model appear twice (say, at two settings, or
as a stand-in for a second model in a test) and keep long paths out of the records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from camelid.errors import UsageError

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


def parse_pool(specs: list[str], n: int) -> list[PoolModel]:
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
    if len(pool) > n:
        raise UsageError(
            f"--n {n} is fewer than the {len(pool)} models given with --model; "
            f"each model writes at least one completion (use --n {len(pool)} or more)"
        )
    return pool
