"""`camelid magpie`: instructions without seeds (Magpie), answered by the same model."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import epilog, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.runtime import RunOptions
from camelid.sampling import Sampling
from camelid.stages.magpie.template import ChatTemplate

SCORINGS = ("expected", "sampled")


def register(app: typer.Typer) -> None:
    app.command(
        "magpie",
        help="Magpie: a chat model writes user queries from its chat template's text up to a "
        "user message (no seeds), then answers them; rule filters and a quality rating.",
        epilog=epilog(
            "camelid magpie --n 100 -o magpie.jsonl --rejects magpie-rejects.jsonl",
            "nothing: the queries come from the model's own chat template",
            "instruction, output (or messages with --turns 2+), system (with --system), scores "
            "and ratings (query quality), source magpie, lineage (query, answer, judge); "
            "dropped queries go to --rejects with why",
        ),
    )(magpie)


@engine_flags
@run_flags(resumable=True)
def magpie(
    options: EngineOptions,
    run: RunOptions,
    n: Annotated[
        int, typer.Option("--n", help="Queries to generate (each keyed by its index).", min=1)
    ] = 100,  # fmt: skip
    system: Annotated[
        str | None, typer.Option(help="System prompt that steers the queries' domain.")
    ] = None,
    turns: Annotated[int, typer.Option(help="User turns per conversation.", min=1)] = 1,
    template_from: Annotated[
        str | None,
        typer.Option(
            help="Model directory whose chat template gives the pre-query text [default: "
            "--model; needed with --engine openai when --model is not a local model]."
        ),
    ] = None,
    answer_temperature: Annotated[
        float, typer.Option(help="Temperature of the answers.", min=0.0, max=2.0)
    ] = 0.7,
    answer_max_tokens: Annotated[int, typer.Option(help="Most tokens per answer.", min=1)] = 512,
    min_words: Annotated[int, typer.Option(help="Shortest query kept, in words.", min=1)] = 3,
    max_words: Annotated[int, typer.Option(help="Longest query kept, in words.", min=1)] = 200,
    min_ascii: Annotated[
        float,
        typer.Option(
            help="Least share of ASCII letters in a query (0: any language).", min=0.0, max=1.0
        ),
    ] = 0.9,  # fmt: skip
    max_repeated: Annotated[
        float,
        typer.Option(
            help="Most share of a text's 4-grams that repeat an earlier one.", min=0.0, max=1.0
        ),
    ] = 0.3,  # fmt: skip
    rate: Annotated[
        bool, typer.Option(help="Rate each query's quality with --rubric (Magpie's input quality).")
    ] = True,
    rubric: Annotated[
        str, typer.Option(help="Judge pack that rates the query.")
    ] = "magpie-quality",
    scoring: Annotated[
        str, typer.Option(help="expected (G-Eval, ties broken) or sampled (as written).")
    ] = "expected",
    min_quality: Annotated[
        float,
        typer.Option(
            help="Drop queries rated below this (1-5; 3: Magpie's 'average' or better).", min=0.0
        ),
    ] = 3.0,  # fmt: skip
) -> None:
    from camelid.packs import load_pack
    from camelid.stages.magpie.filters import Rules
    from camelid.stages.magpie.run import Plan, run_magpie

    if min_words > max_words:
        raise UsageError(f"--min-words {min_words} is greater than --max-words {max_words}")
    if scoring not in SCORINGS:
        raise UsageError(f"--scoring: choose one of {', '.join(SCORINGS)}, not {scoring!r}")
    judge = load_pack(rubric) if rate else None
    if judge is not None and judge.manifest.rubric is None:
        raise UsageError(f"--rubric {rubric}: pack {judge.name} has no rubric (it is not a judge)")
    template = template_for(options, template_from)
    # Magpie sampled queries at temperature 1 and top-p 1; --temperature/--top-p change that.
    query = _query_sampling(options, template.end_of_turn())
    plan = Plan(
        n=n,
        template=template,
        query_sampling=query,
        answer_sampling=query.merged(
            stop=[], temperature=answer_temperature, top_p=1.0, max_tokens=answer_max_tokens
        ),  # fmt: skip
        rules=Rules(
            min_words=min_words,
            max_words=max_words,
            min_ascii=min_ascii,
            max_repeated_share=max_repeated,
        ),  # fmt: skip
        system=system,
        turns=turns,
        judge=judge,
        judge_sampling=judge.sampling.merged(seed=options.seed) if judge else None,
        scoring=scoring,
        min_quality=min_quality,
    )
    run_magpie(run, options, plan)


def _query_sampling(options: EngineOptions, end: str) -> Sampling:
    base = Sampling(temperature=1.0, top_p=1.0, max_tokens=256, seed=options.seed,
                    stop=[end] if end else [])  # fmt: skip
    return base.merged(**options.sampling_overrides())


def template_for(options: EngineOptions, template_from: str | None) -> ChatTemplate:
    """The chat template, read before any model loads: from --template-from, else the model."""
    from camelid.models import DEFAULT_MODEL, resolve_model
    from camelid.stages.magpie.template import load_template

    source = template_from or options.model
    if options.engine in ("openai", "scripted") and not template_from:
        from pathlib import Path

        if not source or not (Path(source).is_dir() or _builtin(source)):
            raise UsageError(
                f"--engine {options.engine}: magpie needs the model's chat template; pass "
                "--template-from DIR (a local copy of the model), or --model DIR"
            )
    source = source or DEFAULT_MODEL
    return load_template(resolve_model(source), name=source)


def _builtin(name: str) -> bool:
    from camelid.models import MODELS

    return name in MODELS
