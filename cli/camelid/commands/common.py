"""Options shared by every record command, as typer annotations, so each is spelled once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camelid.errors import UsageError

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="JSONL files to read in order; '-' or nothing reads stdin.",
        show_default=False,
    ),
]
Output = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write records here (atomically) instead of stdout."),
]
Rejects = Annotated[
    str | None,
    typer.Option("--rejects", help="Write rejected records and bad lines here, with reasons."),
]
SkipBadLines = Annotated[
    bool,
    typer.Option(
        "--skip-bad-lines",
        help="Move malformed lines to --rejects and go on, instead of stopping with exit 65.",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
Resume = Annotated[
    bool,
    typer.Option(
        help="Continue a stopped run: skip the records already in -o FILE (and --rejects)."
    ),
]
Force = Annotated[bool, typer.Option(help="With --resume: go on even if the settings changed.")]


def input_paths(inputs: list[str] | None) -> list[str]:
    """The inputs, '-' when none; missing files refused now, before any model is loaded."""
    paths = inputs or ["-"]
    for path in paths:
        if path != "-" and not Path(path).is_file():
            problem = "is a directory" if Path(path).is_dir() else "no such file"
            raise UsageError(f"{path}: {problem}")
    return paths


def epilog(example: str, reads: str, writes: str) -> str:
    """The help footer every command carries: an example and the fields it reads and writes."""
    return (
        f"Example:  {example}\n\n"
        f"Reads: {reads}\n\n"
        f"Writes: {writes}\n\n"
        "Exit codes: 0 ok, 1 error, 2 usage, 65 bad input data, 75 temporary failure, "
        "130 interrupted, 143 terminated."
    )
