"""`camelid score`: LLM-as-judge with a rubric pack (humpback, ultrafeedback, alpagasus, critique)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import Run, RunOptions
from camelid.runtime.generation import run_generation
from camelid.stages.score import STAGE, Judge


def register(app: typer.Typer) -> None:
    app.command(
        "score",
        help="Judge each answer (or every completion) with a rubric: scores and rationales.",
        epilog=epilog(
            "camelid score answered.jsonl --rubric humpback -o scored.jsonl",
            "instruction, input, and output or completions[].text",
            "scores{aspect: rating} and rationales{aspect: text} on the record, or on each "
            "completion; types{aspect: [labels]} where the rubric has them; a judgement that "
            "did not parse leaves its score null with judge_errors{aspect: {error, raw}}",
        ),
    )(score_command)


@engine_flags
@run_flags(resumable=True)
def score_command(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    rubric: Annotated[
        str,
        typer.Option(
            help="Rubric pack: humpback, ultrafeedback, alpagasus, critique, or a folder."
        ),
    ] = "humpback",
    judge_model: Annotated[
        str | None, typer.Option(help="Model that judges (default: --model).")
    ] = None,
    separately: Annotated[
        bool, typer.Option(help="Rate completions one by one, not all of a prompt together.")
    ] = False,
) -> None:
    paths = input_paths(inputs)
    pack = load_pack(rubric)
    if pack.manifest.rubric is None:
        raise UsageError(f"--rubric {rubric}: pack {pack.name} has no rubric (it is not a judge)")
    sampling = pack.sampling.merged(**options.sampling_overrides(), seed=options.seed)

    def report(run: Run, judge: Judge) -> None:
        run.stats["judge_failures"] = judge.failed
        if judge.failed:
            run.note(
                f"score: {judge.failed} judgements did not parse; their scores are null "
                "(see judge_errors)"
            )

    run_generation(
        STAGE,
        run,
        options,
        paths,
        pack.lineage(STAGE, None, sampling),
        lambda engine: Judge(pack, engine, sampling, separately),
        model=judge_model,
        after=report,
    )
