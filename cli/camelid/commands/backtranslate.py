"""`camelid backtranslate`: write the instruction each unlabelled segment answers (Humpback)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import RunOptions
from camelid.runtime.generation import run_generation
from camelid.stages.backtranslate.stage import STAGE, Backtranslate

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
            "train turn source into a system-prompt tag as Humpback did (our paraphrase of its "
            "two: seed, AI-assistant style; augmented, knowledge from web search). Segments too long for the context and "
            "empty or degenerate instructions go to --rejects with the reason and the reply",
        ),
    )(backtranslate_command)


@engine_flags
@run_flags(resumable=True)
def backtranslate_command(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    pack: Annotated[
        str,
        typer.Option(
            help="backtranslate (prompt an instruct model), backward (a model trained by "
            "`camelid train --task backward`; needs --model), or a pack folder."
        ),
    ] = "backtranslate",
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
    run_generation(
        STAGE,
        run,
        options,
        paths,
        p.lineage(STAGE, None, sampling),
        lambda engine, _: Backtranslate(p, engine, sampling),
    )
