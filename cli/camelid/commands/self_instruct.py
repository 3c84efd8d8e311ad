"""`camelid self-instruct`: grow a pool of new instructions from seed tasks (Self-Instruct, Alpaca)."""

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
from camelid.commands.generation import open_engine, protect_stdout
from camelid.errors import UsageError
from camelid.packs import Pack, load_pack
from camelid.pipeline import Reject, Run
from camelid.resume import RESUME_KEYS, check_settings, load_existing, rejected_entries

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
def self_instruct(
    options: EngineOptions,
    inputs: Inputs = None,
    output: Output = None,
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
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue the run in -o FILE, pool included (give the same --rejects: "
            "instructions dropped for want of an instance stay in the pool, as in a run "
            "that never stopped)."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option(help="With --resume: go on even if the settings changed.")
    ] = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    # numpy and the novelty index load only when the command runs: `--help` stays fast.
    from camelid.stages.instances import InstanceMaker
    from camelid.stages.instruction_pool import GateSettings, InstructionGate, clean_instruction
    from camelid.stages.self_instruct import Bootstrap, Settings, is_classification

    paths = input_paths(inputs)
    if tokenizer not in TOKENIZERS:
        raise UsageError(f"--tokenizer: choose one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    if min_words > max_words:
        raise UsageError(f"--min-words {min_words} is greater than --max-words {max_words}")
    main = _generation_pack(pack)
    alpaca = main.manifest.parser.type == "alpaca_batch"
    helpers = [
        load_pack(n)
        for n in ("self-instruct-classify", "self-instruct-instances", "self-instruct-labels")
    ]
    existing = load_existing(output, resume)
    sampling = main.sampling.merged(**options.sampling_overrides(), seed=options.seed)
    examples = _default(human_examples, 3 if alpaca else 6) + _default(
        machine_examples, 0 if alpaca else 2
    )
    if not alpaca:  # stop after eight new tasks, as Self-Instruct did
        sampling = sampling.merged(stop=[*sampling.stop, f"Task {examples + 9}:"])

    before_loading = tuple(k for k in RESUME_KEYS if k != "model")
    check_settings(
        existing,
        STAGE,
        main.lineage(STAGE, None, sampling),
        output or "-",
        force,
        keys=before_loading,
    )
    protect_stdout()  # before the output opens: the engine comes later, inside the run
    with Run(STAGE, output, rejects, skip_bad_lines, quiet, append=resume, resumable=True) as run:
        human = []
        for record in run.records(paths):
            if clean_instruction(record.instruction or ""):
                human.append(record)
            else:
                run.reject(
                    Reject(
                        STAGE, "seed has no instruction", record=record, where=record._where or None
                    )
                )
        if not human:
            raise UsageError(f"no seed task with an instruction in {', '.join(paths)}")
        machine = [r for r in existing if any(e.stage == STAGE for e in r.lineage or [])]
        if len(machine) >= target:
            run.note(f"{output} already holds {len(machine)} of {target} instructions")
            return
        share = classification_share
        if share is None:
            share = sum(map(is_classification, human)) / len(human)
        with open_engine(options, quiet=quiet) as engine:
            entry = main.lineage(STAGE, engine.model, sampling)
            check_settings(existing, STAGE, entry, output or "-", force)
            gate = InstructionGate(
                GateSettings(
                    variant="alpaca" if alpaca else "self-instruct",
                    min_words=min_words,
                    max_words=max_words,
                    extra_blacklist=tuple(blacklist or ()),
                    threshold=threshold,
                    tokenizer=tokenizer,  # type: ignore[arg-type]
                ),
                [clean_instruction(r.instruction or "") for r in [*human, *machine]]
                + _dropped_for_instances(rejects, resume),
            )
            maker = None
            if instances and not alpaca:
                maker = InstanceMaker(*helpers, engine=engine, seed=options.seed)
            boot = Bootstrap(
                main,
                engine,
                sampling,
                gate,
                human,
                Settings(
                    target=target,
                    human_examples=_default(human_examples, 3 if alpaca else 6),
                    machine_examples=_default(machine_examples, 0 if alpaca else 2),
                    classification_share=0.0 if alpaca else share,
                    max_prompts=max_prompts,
                    batch_size=options.batch_size,
                    seed=options.seed,
                ),
                instances=maker,
                machine=list(machine),
                model=engine.model,
            )
            start = 1 + max((_round(r) for r in machine), default=-1)
            kept, sent = len(machine), 0
            for result in boot.rounds(start=start, kept=kept):
                run.write_all([*result.kept, *result.rejects])
                run.flush()
                kept += len(result.kept)
                sent += result.prompts
                run.note(
                    f"round {result.number}: {result.prompts} prompts, kept "
                    f"{len(result.kept)}, dropped {len(result.rejects)}; "
                    f"{kept}/{target} instructions"
                )
            if kept < target:
                run.note(
                    f"{STAGE}: stopped at {kept} of {target} instructions after {sent} prompts "
                    f"(the --max-prompts bound, {boot.settings.prompt_budget}); add --resume "
                    "-o FILE to continue, or raise --max-prompts"
                )


def _generation_pack(name: str) -> Pack:
    pack = load_pack(name)
    kind = pack.manifest.parser.type
    if kind not in GENERATION_PARSERS:
        raise UsageError(
            f"pack {pack.name} does not generate tasks (its parser is {kind!r}); use "
            "self-instruct, alpaca, or a pack whose parser is task_list or alpaca_batch"
        )
    return pack


def _dropped_for_instances(rejects: str | None, resume: bool) -> list[str]:
    """Instructions that passed novelty but got no usable instance: they entered the pool when
    they were made (as in Self-Instruct, where instances come later), so a resumed run needs
    them there too; the --rejects file of the stopped run holds them."""
    from camelid.stages.self_instruct import NO_INSTANCE

    return [
        entry["record"]["instruction"]
        for entry in rejected_entries(rejects, resume)
        if entry.get("stage") == STAGE
        and str(entry.get("reason", "")).startswith(NO_INSTANCE)
        and isinstance(entry.get("record"), dict)
        and isinstance(entry["record"].get("instruction"), str)
    ]


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _round(record: object) -> int:
    for entry in getattr(record, "lineage", None) or []:
        if entry.stage == STAGE:
            return int((entry.model_extra or {}).get("round", -1))
    return -1
