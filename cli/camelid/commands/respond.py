"""`camelid respond`: answer each record's instruction with a pack and a model (or a pool)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import Run, RunOptions
from camelid.runtime.generation import run_generation
from camelid.stages.respond.pool import parse_pool, run_pool
from camelid.stages.respond.self_align import AnswerRules, exemplar_text, has_thoughts, review
from camelid.stages.respond.stage import STAGE, Responder, dropped_note, uses_system

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
            "--principle-prompts writes principle; explain (a pack with its own system "
            "messages) writes the one drawn to system and its name to system_message. Records the model could not answer, or whose "
            "every answer the filter refused, go to --rejects with the reasons",
        ),
    )(respond_command)


@engine_flags(pool=True)
@run_flags(resumable=True)
def respond_command(
    options: EngineOptions,
    models: list[str],
    run: RunOptions,
    inputs: Inputs = None,
    pack: Annotated[
        str,
        typer.Option(help="Built-in pack (plain, self-align, verbose, explain) or pack folder."),
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
) -> None:
    paths = input_paths(inputs)
    p = load_pack(pack)
    pool = parse_pool(models) if models else []
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

    if len(pool) > 1:
        run_pool(run, options, paths, responder([m.name for m in pool]), pool)
        return
    source = pool[0].source if pool else None
    name = pool[0].name if pool else None
    run_generation(
        STAGE,
        run,
        options,
        paths,
        responder([name or "?"]).lineage.model_copy(update={"model": None}),
        lambda engine, _: responder([name or engine.model]).serving(engine, 0),
        model=source,
        label=name,
        after=note_dropped,
    )


def note_dropped(run: Run, stage: Responder) -> None:
    if note := dropped_note(stage.dropped):
        run.note(note)
