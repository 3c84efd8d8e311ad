"""`camelid serve`: start vLLM's OpenAI-compatible server once; every command after uses it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from camelid.commands.common import epilog
from camelid.commands.engine_flags import EngineOptions, engine_flags

HELP = "Serve a model once (vLLM's OpenAI-compatible server) for every command that follows."
DESCRIPTION = f"""{HELP}

Starts the server on loopback with the settings camelid needs on this machine, waits until it
answers, and prints the lines to export, so that the commands after it use the served model
instead of loading their own:

    camelid serve > serve.env && . serve.env      (or: eval "$(camelid serve)")

The server runs in the background, logging under the cache directory (`camelid serve --list`
shows where); it ends when the shell that started it ends, or with `camelid serve --stop`.
Several models (a pool, a judge) can be served side by side: each gets its own port."""


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=epilog(
            "camelid serve smollm2-135m-instruct > serve.env && . serve.env && "
            "camelid seed --builtin | camelid respond",
            "nothing (a model: a built-in name, a directory or a hub id)",
            "export lines for CAMELID_ENGINE, CAMELID_BASE_URL and CAMELID_MODEL on stdout",
        ),
    )(serve)


@engine_flags
def serve(
    options: EngineOptions,
    model_arg: Annotated[
        str | None,
        typer.Argument(
            metavar="[MODEL]",
            help="Built-in name, model directory or hub id [default: smollm2-135m-instruct].",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int | None, typer.Option(help="Port [default: a free one].")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for it to answer.")] = 900.0,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the served MODEL (or --port), or all of them.")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the servers camelid runs.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --list: one JSON array on stdout.")
    ] = False,
) -> None:
    from camelid import serve as servers
    from camelid.runtime.progress import stderr

    if stop or list_:
        chosen = servers.pick(servers.running(), model_arg, port)
        if as_json and not stop:
            typer.echo(json.dumps([asdict(server) for server in chosen]))
            return
        for server in chosen:
            if stop:
                servers.stop(server)
            verb = "stopped" if stop else "serving"
            stderr.print(f"{verb} {server.name} at {server.url} (pid {server.pid}, log "
                         f"{server.log})", markup=False)  # fmt: skip
        if not chosen:
            stderr.print("no servers running", markup=False)
        return
    stderr.print(f"serving {model_arg or options.model or 'smollm2-135m-instruct'} with vLLM…",
                 markup=False)  # fmt: skip
    server = servers.start(model_arg, options, host, port, wait)
    stderr.print(f"serving {server.name} at {server.url} (pid {server.pid}, log {server.log})",
                 markup=False)  # fmt: skip
    typer.echo(server.exports(), nl=False)
