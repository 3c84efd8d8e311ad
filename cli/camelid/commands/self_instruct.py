"""`camelid self-instruct`: grow a pool of new instructions from seed tasks (Self-Instruct, Alpaca)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import Pack, load_pack
from camelid.runtime import RunOptions

STAGE = "self-instruct"
GENERATION_PARSERS = ("task_list", "alpaca_batch")
TOKENIZERS = ("unicode", "rouge")


def register(app: typer.Typer) -> None:
    app.command(
        "self-instruct",
        help="Bootstrap new instructions from seed tasks until --target are kept (Self-Instruct, "
        "or Alpaca with --pack alpaca): filtered, novel by ROUGE-L, with instances.",
        epilog=epilog(
            f"camelid seed {'seed_tasks.jsonl'} | camelid self-instruct --target 100 -o new.jsonl",
            "seed records: instruction, input, output, is_classification or tag classification",
            "new records: instruction, input and output (the first instance), instances, "
            "is_classification, most_similar_instructions, avg_similarity_score, source "
            "generated, lineage (with the round); dropped candidates go to --rejects with why",
        ),
    )(self_instruct)


@engine_flags
@run_flags(resumable=True)
def self_instruct(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    target: Annotated[int, typer.Option(help="New instructions to keep.", min=1)] = 100,
    pack: Annotated[
        str, typer.Option(help="self-instruct, alpaca, or a pack folder with such a parser.")
    ] = "self-instruct",
    instances: Annotated[
        bool, typer.Option(help="Classify each new task and write instances for it.")
    ] = True,
    human_examples: Annotated[
        int | None, typer.Option(help="Seed tasks per prompt [default: 6; alpaca 3].", min=0)
    ] = None,
    machine_examples: Annotated[
        int | None, typer.Option(help="Generated tasks per prompt [default: 2; alpaca 0].", min=0)
    ] = None,
    classification_share: Annotated[
        float | None,
        typer.Option(
            help="Share of prompts asking for classification tasks "
            "[default: the share of classification seeds].",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Drop a task whose ROUGE-L F1 to the pool exceeds this.")
    ] = 0.7,
    tokenizer: Annotated[
        str,
        typer.Option(
            help="unicode (exact rouge_score on ASCII, also CJK and accents) or rouge "
            "(rouge_score's own: only [a-z0-9])."
        ),
    ] = "unicode",
    min_words: Annotated[int, typer.Option(help="Shortest instruction kept.", min=1)] = 4,
    max_words: Annotated[int, typer.Option(help="Longest instruction kept.", min=1)] = 150,
    blacklist: Annotated[
        list[str] | None, typer.Option(help="More words to refuse (whole words; repeatable).")
    ] = None,
    max_prompts: Annotated[
        int, typer.Option(help="Give up after this many prompts [default: 20 per target].", min=0)
    ] = 0,
) -> None:
    # numpy and the novelty index load only when the command runs: `--help` stays fast.
    from camelid.stages.instructions.bootstrap import Settings, last_task_stop
    from camelid.stages.instructions.gate import GateSettings
    from camelid.stages.instructions.instances import InstancePacks
    from camelid.stages.instructions.run import Plan, run_self_instruct

    paths = input_paths(inputs)
    if tokenizer not in TOKENIZERS:
        raise UsageError(f"--tokenizer: choose one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    if min_words > max_words:
        raise UsageError(f"--min-words {min_words} is greater than --max-words {max_words}")
    main = _generation_pack(pack)
    alpaca = main.manifest.parser.type == "alpaca_batch"
    helpers = InstancePacks(
        *(load_pack(n) for n in ("self-instruct-classify", "self-instruct-instances",
                                 "self-instruct-labels")), seed=options.seed,
    )  # fmt: skip
    sampling = main.sampling.merged(**options.sampling_overrides(), seed=options.seed)
    human_n = _default(human_examples, 3 if alpaca else 6)
    machine_n = _default(machine_examples, 0 if alpaca else 2)
    if not alpaca:
        sampling = sampling.merged(stop=[*sampling.stop, last_task_stop(human_n + machine_n)])
    rules = GateSettings(
        variant="alpaca" if alpaca else "self-instruct",
        min_words=min_words,
        max_words=max_words,
        extra_blacklist=tuple(blacklist or ()),
        threshold=threshold,
        tokenizer=tokenizer,  # type: ignore[arg-type]
    )

    plan = Plan(
        pack=main,
        sampling=sampling,
        rules=rules,
        instances=None if alpaca or not instances else helpers,
        settings=Settings(
            target=target,
            human_examples=human_n,
            machine_examples=machine_n,
            classification_share=0.0 if alpaca else _default_share(classification_share),
            max_prompts=max_prompts,
            batch_size=options.batch_size,
            seed=options.seed,
        ),
    )
    run_self_instruct(run, options, paths, plan)


def _generation_pack(name: str) -> Pack:
    pack = load_pack(name)
    kind = pack.manifest.parser.type
    if kind not in GENERATION_PARSERS:
        raise UsageError(
            f"pack {pack.name} does not generate tasks (its parser is {kind!r}); use "
            "self-instruct, alpaca, or a pack whose parser is task_list or alpaca_batch"
        )
    return pack


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _default_share(share: float | None) -> float:
    return -1.0 if share is None else share  # -1: the share of classification seeds
