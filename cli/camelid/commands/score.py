"""`camelid score`: LLM-as-judge with a rubric pack (humpback, ultrafeedback, alpagasus, critique)."""

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
from camelid.records import Record
from camelid.resume import Resumption
from camelid.stages.score import count_failures, score


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
def score_command(
    options: EngineOptions,
    inputs: Inputs = None,
    output: Output = None,
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
    resume: Resume = False,
    force: Force = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    paths = input_paths(inputs)
    pack = load_pack(rubric)
    if pack.manifest.rubric is None:
        raise UsageError(f"--rubric {rubric}: pack {pack.name} has no rubric (it is not a judge)")
    sampling = pack.sampling.merged(**options.sampling_overrides(), seed=options.seed)
    done = Resumption(
        "score", pack.lineage("score", None, sampling), output, rejects, resume, force
    )
    with (
        open_engine(options, judge_model, quiet=quiet) as engine,
        Run("score", output, rejects, skip_bad_lines, quiet, append=resume, resumable=True) as run,
    ):
        done.check_model(engine.model)
        failed = 0
        records = done.pending(run.records(paths))
        for batch in score(records, pack, engine, sampling, separately, options.batch_size):
            run.write_all(batch)
            run.flush()
            failed += sum(count_failures(r) for r in batch if isinstance(r, Record))
        if failed:
            run.note(
                f"score: {failed} judgements did not parse; their scores are null (see judge_errors)"
            )
