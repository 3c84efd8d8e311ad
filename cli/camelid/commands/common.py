"""Options shared by every record command, as typer annotations, so each is spelled once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from camelid.errors import UsageError
from camelid.runtime import RunOptions

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
        help="Continue a stopped run from -o FILE and its resume journal (.FILE.resume.jsonl): "
        "the records it finished, written or rejected, are not done again."
    ),
]
Force = Annotated[bool, typer.Option(help="With --resume: go on even if the settings changed.")]
Stats = Annotated[
    str | None,
    typer.Option(
        "--stats",
        metavar="FILE",
        help="Write the run's counts here as JSON: read, written, rejected (per reason), seconds.",
        show_default=False,
    ),
]

RUN_FLAGS: dict[str, tuple[Any, Any]] = {
    "output": (Output, None),
    "rejects": (Rejects, None),
    "stats": (Stats, None),
    "skip_bad_lines": (SkipBadLines, False),
    "quiet": (Quiet, False),
}
RESUME_FLAGS: dict[str, tuple[Any, Any]] = {"resume": (Resume, False), "force": (Force, False)}


def run_flags(
    func: Callable[..., Any] | None = None, *, resumable: bool = False
) -> Callable[..., Any]:
    """Add the options every record command shares (-o, --rejects, --stats, --skip-bad-lines,
    --quiet, and --resume/--force for resumable commands). The command declares a parameter
    `run: RunOptions` and gets them in one piece; one that declares an option itself (export's
    -o names a folder too) keeps its own and receives its value as well."""
    if func is None:
        return functools.partial(run_flags, resumable=resumable)
    flags = RUN_FLAGS | (RESUME_FLAGS if resumable else {})
    hints = get_type_hints(func, include_extras=True)
    own = [p for p in inspect.signature(func).parameters.values() if p.name != "run"]
    own = [p.replace(annotation=hints[p.name]) for p in own]
    declared = {p.name for p in own}
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint)
        for name, (hint, default) in flags.items()
        if name not in declared
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.get(name, default) for name, (_, default) in flags.items()}
        for name in flags:
            if name not in declared:
                kwargs.pop(name, None)
        return func(run=RunOptions(**values), **kwargs)

    params = [*own, *added]
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


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
