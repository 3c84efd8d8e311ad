"""The `camelid` command: global options, the one error boundary, and the subcommands.

Command modules import nothing heavy at module level (no vllm, no torch), so `--help` stays fast.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated

import typer

from camelid import __version__
from camelid.commands import backtranslate as backtranslate_cmd
from camelid.commands import dedup as dedup_cmd
from camelid.commands import eval as eval_cmd
from camelid.commands import evolve as evolve_cmd
from camelid.commands import export as export_cmd
from camelid.commands import filter as filter_cmd
from camelid.commands import magpie as magpie_cmd
from camelid.commands import models as models_cmd
from camelid.commands import packs as packs_cmd
from camelid.commands import pairs as pairs_cmd
from camelid.commands import redteam as redteam_cmd
from camelid.commands import report as report_cmd
from camelid.commands import respond as respond_cmd
from camelid.commands import score as score_cmd
from camelid.commands import seed as seed_cmd
from camelid.commands import self_instruct as self_instruct_cmd
from camelid.commands import serve as serve_cmd
from camelid.commands import train as train_cmd
from camelid.errors import EXIT_CODES_HELP, CamelidError, Interrupted, OutputClosed, Terminated

app = typer.Typer(
    name="camelid",
    help=(
        "Build alignment data for language models: every subcommand reads and writes JSON Lines, "
        "so a recipe is a shell pipeline.\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"camelid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
) -> None:
    """camelid: alignment data from the command line."""


seed_cmd.register(app)
self_instruct_cmd.register(app)
evolve_cmd.register(app)
redteam_cmd.register(app)
magpie_cmd.register(app)
respond_cmd.register(app)
backtranslate_cmd.register(app)
score_cmd.register(app)
eval_cmd.register(app)
app.add_typer(packs_cmd.app, name="packs")
models_cmd.register(app)
serve_cmd.register(app)
filter_cmd.register(app)
dedup_cmd.register(app)
pairs_cmd.register(app)
export_cmd.register(app)
train_cmd.register(app)
report_cmd.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning known errors into one line on stderr and an exit code."""
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app(args=argv, prog_name="camelid")  # handles usage errors and --help itself
    except CamelidError as exc:
        print(f"camelid: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (OutputClosed, BrokenPipeError):
        _quiet_broken_pipe()


def _interrupted(signum: int, frame: object) -> None:
    # Our own exception rather than KeyboardInterrupt, which the CLI framework would turn into
    # "Aborted!" and exit 1; this one unwinds through the writers (no partial files) to exit 130.
    raise Interrupted("interrupted")


def _terminated(signum: int, frame: object) -> None:
    raise Terminated("terminated")


def _quiet_broken_pipe() -> None:
    # The reader (e.g. `head`) went away: point stdout at /dev/null so the interpreter's final
    # flush does not raise again, and end quietly as unix tools do.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)
