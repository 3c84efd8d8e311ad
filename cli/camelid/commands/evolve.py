"""`camelid evolve`: Evol-Instruct (WizardLM): instructions rewritten into harder or rarer ones."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import RunOptions

HELP = (
    "Evol-Instruct (WizardLM): rewrite each instruction into a harder one (in-depth) or a new, "
    "rarer one (in-breadth), --rounds times over the survivors; failed evolutions eliminated."
)


def register(app: typer.Typer) -> None:
    app.command(
        "evolve",
        help=HELP,
        epilog=epilog(
            "camelid seed --builtin | camelid evolve --rounds 2 --respond -o evolved.jsonl",
            "instruction (and input, merged into the task that is evolved)",
            "one record per kept evolution: instruction (a new id), parent (the id it evolved "
            "from), tags [evol-instruct, in-depth|in-breadth, OPERATION], source evolved, "
            "lineage (one evolve entry per round with operation, round and parent), and output "
            "with --respond; the originals too with --keep-originals. Eliminated evolutions go "
            "to --rejects with the rule: no information gain, unanswerable, prompt leakage, "
            "only punctuation and stop words",
        ),
    )(evolve_command)


@engine_flags
@run_flags(resumable=True)
def evolve_command(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    rounds: Annotated[
        int,
        typer.Option(
            help="Rounds of evolution, each over the previous round's survivors (WizardLM ran 4; "
            "1 by default: each round costs three model calls per record).",
            min=1,
        ),
    ] = 1,
    operation: Annotated[
        list[str] | None,
        typer.Option(
            help="Draw only from these operations (repeatable): constraints, deepen, "
            "concretize, reasoning, complicate-input, breadth, or a kind: in-depth, in-breadth "
            "[default: all six].",
        ),
    ] = None,
    respond: Annotated[
        bool, typer.Option(help="Keep the answer written for the elimination check as output.")
    ] = False,
    keep_originals: Annotated[
        bool, typer.Option(help="Write the input records too, unchanged (WizardLM's final set).")
    ] = False,
    pack: Annotated[str, typer.Option(help="evol-instruct, or a pack folder like it.")] = (
        "evol-instruct"
    ),
    answer_pack: Annotated[
        str, typer.Option(help="The pack that answers each evolution (as `respond --pack`).")
    ] = "plain",
    answer_max_tokens: Annotated[
        int | None, typer.Option(help="Most tokens per answer [default: the answer pack's].", min=1)
    ] = None,
) -> None:
    from camelid.stages.evolve.operations import check_pack, pick_operations
    from camelid.stages.evolve.run import Plan, run_evolve

    paths = input_paths(inputs)
    operations = pick_operations(operation)
    main, equal, answer = load_pack(pack), load_pack("evol-instruct-equal"), load_pack(answer_pack)
    check_pack(main, operations)
    if "instruction" not in answer.manifest.inputs:
        raise UsageError(
            f"--answer-pack {answer_pack}: pack {answer.name} does not answer an instruction"
        )
    seed = options.seed
    answer_sampling = answer.sampling.merged(seed=seed)
    if answer_max_tokens is not None:
        answer_sampling = answer_sampling.merged(max_tokens=answer_max_tokens)
    plan = Plan(
        pack=main,
        sampling=main.sampling.merged(**options.sampling_overrides(), seed=seed),
        equal_pack=equal,
        equal_sampling=equal.sampling.merged(seed=seed),
        answer_pack=answer,
        answer_sampling=answer_sampling,
        operations=operations,
        rounds=rounds,
        respond=respond,
        keep_originals=keep_originals,
        batch_size=options.batch_size,
    )
    run_evolve(run, options, paths, plan)
