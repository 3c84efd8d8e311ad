"""`camelid backtranslate`: write the instruction each unlabelled segment answers (Humpback)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import (
    Force,
    Inputs,
    Output,
    Quiet,
    Rejects,
    Resume,
    SkipBadLines,
    epilog,
    input_paths,
)
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.commands.generation import open_engine
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.pipeline import Run
from camelid.resume import Resumption
from camelid.stages.backtranslate import backtranslate

HELP = (
    "Write the instruction each unlabelled segment would answer (Humpback self-augmentation): "
    "with a backward model (--pack backward --model DIR) or by prompting an instruct model."
)


def register(app: typer.Typer) -> None:
    app.command(
        "backtranslate",
        help=HELP,
        epilog=epilog(
            "camelid seed docs/ | camelid backtranslate -o augmented.jsonl",
            "output (the segment; records that already have an instruction are rejected)",
            "instruction, source: augmented and a lineage entry, output unchanged; export and "
            "train turn source into Humpback's system-prompt tag (seed: AI-assistant style, "
            "augmented: knowledge from web search). Segments too long for the context and "
            "empty or degenerate instructions go to --rejects with the reason and the reply",
        ),
    )(backtranslate_command)


@engine_flags
def backtranslate_command(
    options: EngineOptions,
    inputs: Inputs = None,
    output: Output = None,
    pack: Annotated[
        str,
        typer.Option(
            help="backtranslate (prompt an instruct model), backward (a model trained by "
            "`camelid train --task backward`; needs --model), or a pack folder."
        ),
    ] = "backtranslate",
    resume: Resume = False,
    force: Force = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    paths = input_paths(inputs)
    p = load_pack(pack)
    if "output" not in p.manifest.inputs:
        raise UsageError(
            f"--pack {pack}: pack {p.name} does not take a segment (a backtranslation pack "
            "lists output in its inputs)"
        )
    if p.name == "backward" and not options.model:
        raise UsageError(
            "--pack backward needs --model: a backward model trained by "
            "`camelid train --task backward` (the default model answers, it does not backtranslate)"
        )
    sampling = p.sampling.merged(**options.sampling_overrides(), seed=options.seed)
    lineage = p.lineage("backtranslate", None, sampling)
    done = Resumption("backtranslate", lineage, output, rejects, resume, force)
    with (
        open_engine(options, quiet=quiet) as engine,
        Run(
            "backtranslate", output, rejects, skip_bad_lines, quiet, append=resume, resumable=True
        ) as run,
    ):
        done.check_model(engine.model)
        for batch in backtranslate(
            done.pending(run.records(paths)), p, engine, sampling, options.batch_size
        ):
            run.write_all(batch)
            run.flush()
