"""`camelid respond`: answer each record's instruction with a pack and a model."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import (
    Inputs,
    Output,
    Quiet,
    Rejects,
    SkipBadLines,
    epilog,
    input_paths,
)
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.commands.generation import open_engine
from camelid.packs import load_pack
from camelid.pipeline import Run
from camelid.stages.generate import run_pack
from camelid.stages.respond import answer


def register(app: typer.Typer) -> None:
    app.command(
        "respond",
        help="Answer each record's instruction (and input) with a model: output or completions.",
        epilog=epilog(
            "camelid seed --builtin | camelid respond --pack plain -o answered.jsonl",
            "instruction, input (optional), system (optional)",
            "output (with --n 1) or completions[{text, model, finish_reason}] (with --n K), "
            "and a lineage entry; records the model could not answer go to --rejects",
        ),
    )(respond)


@engine_flags
def respond(
    options: EngineOptions,
    inputs: Inputs = None,
    output: Output = None,
    pack: Annotated[str, typer.Option(help="Built-in pack name or pack folder.")] = "plain",
    n: Annotated[int, typer.Option("--n", help="Answers per record (completions).", min=1)] = 1,
    keep_truncated: Annotated[
        bool, typer.Option(help="Keep answers cut off at --max-tokens (dropped by default).")
    ] = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    paths = input_paths(inputs)
    p = load_pack(pack)
    sampling = p.sampling.merged(**options.sampling_overrides(), n=n, seed=options.seed)
    with open_engine(options, quiet=quiet) as engine:
        apply = answer(p, engine.model, sampling, keep_truncated=keep_truncated)
        with Run("respond", output, rejects, skip_bad_lines, quiet) as run:
            records = run.records(paths)
            for batch in run_pack(
                records, p, engine, sampling, apply, "respond", options.batch_size
            ):
                run.write_all(batch)
                run.flush()
