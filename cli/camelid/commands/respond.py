"""`camelid respond`: answer each record's instruction with a pack and a model (or a pool)."""

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
from camelid.commands.generation import open_engine, protect_stdout
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.pipeline import Run
from camelid.resume import Resumption
from camelid.stages.pool import parse_pool
from camelid.stages.respond import Responder, respond, respond_pool, uses_system
from camelid.stages.self_align import AnswerRules, exemplar_text, has_thoughts, review

FILTER = "Answer filter"


def register(app: typer.Typer) -> None:
    app.command(
        "respond",
        help="Answer each record's instruction (and input) with a model or a pool of models.",
        epilog=epilog(
            "camelid seed --builtin | camelid respond --pack self-align -o answered.jsonl",
            "instruction, input (optional), system (optional)",
            "output (with --n 1) or completions[{text, model, finish_reason}] (with --n K), "
            "and a lineage entry. Packs that think first (self-align) also write "
            "rationales.thoughts and principles (on the record, or on each completion); "
            "--principle-prompts writes principle. Records the model could not answer, or whose "
            "every answer the filter refused, go to --rejects with the reasons",
        ),
    )(respond_command)


@engine_flags(pool=True)
def respond_command(
    options: EngineOptions,
    models: list[str],
    inputs: Inputs = None,
    output: Output = None,
    pack: Annotated[
        str, typer.Option(help="Built-in pack (plain, self-align, verbose) or pack folder.")
    ] = "plain",
    n: Annotated[int, typer.Option("--n", help="Answers per record (completions).", min=1)] = 1,
    keep_truncated: Annotated[
        bool, typer.Option(help="Keep answers cut off at --max-tokens (dropped by default).")
    ] = False,
    principle_prompts: Annotated[
        bool,
        typer.Option(
            help="Give each completion a system prompt drawn from helpfulness (3 in 5), "
            "truthfulness, honesty (1 in 10 of them asking for a stated confidence), as "
            "UltraFeedback did; fixed by --seed."
        ),
    ] = False,
    answer_filter: Annotated[
        bool | None,
        typer.Option(
            "--answer-filter/--no-answer-filter",
            help="Refuse answers that are too short, repeat the instruction, copy the pack's "
            "exemplars or thought format, or repeat sentences. Default: on for packs that "
            "think first (self-align).",
            rich_help_panel=FILTER,
            show_default=False,
        ),
    ] = None,
    min_answer_words: Annotated[
        int, typer.Option(help="Fewer words: too short.", min=0, rich_help_panel=FILTER)
    ] = AnswerRules.min_words,
    leak_words: Annotated[
        int,
        typer.Option(
            help="This many words in a row from the pack's exemplars: a leak.",
            min=2,
            rich_help_panel=FILTER,
        ),
    ] = AnswerRules.leak_words,
    max_repeat_share: Annotated[
        float,
        typer.Option(
            help="Largest share of sentences that repeat an earlier one.",
            min=0.0,
            max=1.0,
            rich_help_panel=FILTER,
        ),
    ] = AnswerRules.max_repeat_share,
    resume: Resume = False,
    force: Force = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    paths = input_paths(inputs)
    p = load_pack(pack)
    pool = parse_pool(models, n) if models else []
    if principle_prompts and not uses_system(p):
        raise UsageError(
            f"--principle-prompts: pack {p.name} does not show the model a system prompt, "
            "so the principles would have no effect (use plain or verbose)"
        )
    if options.engine == "vllm":
        from camelid.models import resolve_model

        for model in pool[1:]:  # the first is checked as it loads: fail before loading any
            resolve_model(model.source or "")
    thinks = has_thoughts(p)
    rules = None
    if answer_filter or (answer_filter is None and thinks):
        rules = AnswerRules(
            min_words=min_answer_words, leak_words=leak_words, max_repeat_share=max_repeat_share
        )
    check = review(exemplar_text(p), rules) if thinks or rules else None
    sampling = p.sampling.merged(**options.sampling_overrides(), n=n, seed=options.seed)

    def responder(names: list[str]) -> Responder:
        return Responder(p, sampling, names, principle_prompts, keep_truncated, check)

    done = Resumption(
        "respond", p.lineage("respond", None, sampling), output, rejects, resume, force
    )
    protect_stdout()  # before the output opens: engines load (and may print) inside the run
    if len(pool) > 1:
        with Run(
            "respond", output, rejects, skip_bad_lines, quiet, append=resume, resumable=True
        ) as run:

            def open_model(index: int):  # type: ignore[no-untyped-def]
                run.note(f"respond: model {index + 1} of {len(pool)}: {pool[index].name}")
                return open_engine(options, pool[index].source, quiet=quiet)

            pooled = responder([m.name for m in pool])
            for batch in respond_pool(
                done.pending(run.records(paths)), pooled, open_model, options.batch_size
            ):
                run.write_all(batch)
        return
    source = pool[0].source if pool else None
    with open_engine(options, source, quiet=quiet) as engine:
        single = responder([pool[0].name if pool else engine.model])
        done.check_model(single.models[0])
        with Run(
            "respond", output, rejects, skip_bad_lines, quiet, append=resume, resumable=True
        ) as run:
            for batch in respond(
                done.pending(run.records(paths)), single, engine, options.batch_size
            ):
                run.write_all(batch)
                run.flush()
