"""The evolutions: five in-depth operations and one in-breadth, and the seeded choice of one.

Each names a template in the pack's ops/ folder (what the model is asked to do) and the frame
it goes in (in-depth.jinja or in-breadth.jinja). WizardLM picked one evolving prompt at random
for each instruction; here the pick is drawn from the run's seed and the record's id alone, so
a record evolves the same way whatever batch, round order or resume it runs in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from camelid.engines.base import record_seed
from camelid.errors import UsageError
from camelid.packs import Pack


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # "in-depth" or "in-breadth"


OPERATIONS = (
    Operation("constraints", "in-depth"),
    Operation("deepen", "in-depth"),
    Operation("concretize", "in-depth"),
    Operation("reasoning", "in-depth"),
    Operation("complicate-input", "in-depth"),
    Operation("breadth", "in-breadth"),
)
BY_NAME = {op.name: op for op in OPERATIONS}


def pick_operations(names: list[str] | None) -> tuple[Operation, ...]:
    """The operations to draw from: all by default, or the ones named (or kinds named)."""
    if not names:
        return OPERATIONS
    chosen: list[Operation] = []
    for name in names:
        found = [op for op in OPERATIONS if name in (op.name, op.kind)]
        if not found:
            known = ", ".join([*BY_NAME, "in-depth", "in-breadth"])
            raise UsageError(f"--operation {name!r}: choose from {known}")
        chosen += [op for op in found if op not in chosen]
    return tuple(chosen)


def choose(operations: tuple[Operation, ...], seed: int, record_id: str) -> Operation:
    """One operation, uniformly at random, fixed by the seed and the record alone."""
    return random.Random(record_seed(seed, f"{record_id}/operation")).choice(operations)


def check_pack(pack: Pack, operations: tuple[Operation, ...]) -> None:
    """A pack for evolve must hold a template for every operation it may be asked for."""
    missing = [
        op.name for op in operations if not (pack.path / "ops" / f"{op.name}.jinja").is_file()
    ]
    if missing:
        raise UsageError(f"pack {pack.name} has no ops/{missing[0]}.jinja (operation {missing[0]})")
