"""`camelid eval`: did the data help? Two answer sources judged pairwise on a prompt set."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import RunOptions
from camelid.stages.eval.answers import AnswerFile
from camelid.stages.eval.run import from_files, from_models, run_eval
from camelid.stages.respond.pool import parse_pool

ANSWERS = "Answers"


def register(app: typer.Typer) -> None:
    app.command(
        "eval",
        help="Compare two models (or two answer files) on a prompt set: a judge picks the better "
        "answer in both orders; win rate with a bootstrap interval, length-controlled win rate.",
        epilog=epilog(
            "camelid eval prompts.jsonl --model base=./base --model tuned=./tuned -o judged.jsonl "
            "--stats eval.json",
            "instruction, input (optional) from the prompts; with --answers-a/-b, records matched "
            "to the prompts by id (else instruction and input) whose output is the answer",
            "one record per prompt: completions [A's answer, B's answer] (model, "
            "scores.pairwise), votes [{order, preferred, favours, rationale}] for both orders, "
            "outcome (A, B or tie) and lineage; --stats adds win_rate, win_rate_interval, "
            "lc_win_rate, wins, losses, ties. A prompt without both answers, or whose "
            "judgement did not parse, goes to --rejects with the reason",
        ),
    )(eval_command)


@engine_flags(pool=True)
@run_flags(resumable=True)
def eval_command(
    options: EngineOptions,
    models: list[str],
    run: RunOptions,
    inputs: Inputs = None,
    answers_a: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="A's answers (instead of --model): JSONL with output.",
            rich_help_panel=ANSWERS,
        ),
    ] = None,
    answers_b: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="B's answers, as --answers-a.", rich_help_panel=ANSWERS),
    ] = None,
    pack: Annotated[
        str,
        typer.Option(
            help="Pack the two --model answer with (plain, verbose, or a folder); the sampling "
            "flags set how they answer.",
            rich_help_panel=ANSWERS,
        ),
    ] = "plain",
    judge: Annotated[
        str | None,
        typer.Option(
            metavar="MODEL",
            help="Model that judges (default: the default model, or the served one); it "
            "samples as its rubric says (greedy).",
        ),
    ] = None,
    rubric: Annotated[
        str, typer.Option(help="Pairwise rubric pack of the judge: pairwise or a folder.")
    ] = "pairwise",
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples over prompts for the interval.", min=1)
    ] = 1000,
) -> None:
    paths = input_paths(inputs)
    judge_pack = load_pack(rubric)
    if judge_pack.manifest.rubric is None or judge_pack.manifest.rubric.mode != "pairwise":
        raise UsageError(f"--rubric {rubric}: pack {judge_pack.name} is not a pairwise rubric")
    if judge and options.engine == "vllm":
        from camelid.models import resolve_model

        resolve_model(judge)  # a bad judge fails now, not after the answers are written
    files = answers_a is not None or answers_b is not None
    if files and models:
        raise UsageError("give two --model or --answers-a and --answers-b, not both")
    if files:
        if answers_a is None or answers_b is None:
            missing = "--answers-b" if answers_b is None else "--answers-a"
            raise UsageError(f"{missing} is missing: give both answer files")
        input_paths([answers_a, answers_b])
        if "-" in (answers_a, answers_b) and ("-" in paths or answers_a == answers_b):
            raise UsageError("only one input can be read from stdin ('-'); name the others")
        sources = from_files(AnswerFile.read("--answers-a", answers_a),
                             AnswerFile.read("--answers-b", answers_b))  # fmt: skip
    else:
        if len(models) != 2:
            raise UsageError(
                f"give two --model (A and B; NAME=MODEL names them), not {len(models)}; "
                "or two answer files with --answers-a and --answers-b"
            )
        pool = parse_pool(models)
        if options.engine == "vllm":
            from camelid.models import resolve_model

            for model in pool:  # fail before loading any
                resolve_model(model.source or "")
        answer_pack = load_pack(pack)
        sampling = answer_pack.sampling.merged(**options.sampling_overrides(), seed=options.seed)
        sources = from_models(pool, answer_pack, sampling, options.batch_size)
    judge_sampling = judge_pack.sampling.merged(seed=options.seed)
    run_eval(run, options, paths, judge_pack, judge_sampling, judge, sources, resamples)
