"""Where the files that ship with camelid live: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """`prompts` or `schemas`: copied into the package by the wheel build; in a source checkout
    (editable install) they stay at the repository's top level."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parents[1] / name
