"""`camelid pairs`: options -> PairOptions -> Run. The logic lives in camelid.stages.pairs."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.runtime import Run, RunOptions
from camelid.stages.pairs import REJECTED_CHOICES, PairOptions, Pairs

HELP = "Turn scored completions into preference pairs: the best as chosen, another as rejected."
DESCRIPTION = f"""{HELP}

For each record with at least two scored completions (a completion whose scores are all null
does not count): chosen is the best by the mean of --aspects; rejected is one of the others
picked at random (UltraFeedback binarization, as Zephyr did; seeded by --seed and the record id,
so the pick does not depend on order), or the worst with --rejected worst. Ties and margins
below --min-margin are dropped, with their reason, to --rejects."""

# typer takes choices as an Enum; the names come from the stage so they are spelled once.
Rejected = Enum("Rejected", [(name, name) for name in REJECTED_CHOICES], type=str)


def register(app: typer.Typer) -> None:
    app.command(
        "pairs",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid pairs scored.jsonl --aspects helpfulness,honesty --min-margin 1 "
            "--seed 1 -o pairs.jsonl",
            "instruction, input, system, completions[{text, model, scores}], id, source",
            "the record with chosen and rejected (texts), chosen_score, rejected_score, "
            "chosen_model, rejected_model and a lineage entry; completions removed",
        ),
    )(make_pairs)


@common.run_flags
def make_pairs(
    run: RunOptions,
    inputs: common.Inputs = None,
    aspects: Annotated[
        str | None,
        typer.Option(
            metavar="A,B",
            help="Aspects whose mean score ranks completions.  [default: all they have]",
            show_default=False,
        ),
    ] = None,
    rejected: Annotated[
        Rejected, typer.Option(help="Which other completion becomes rejected.")
    ] = Rejected.random,  # type: ignore[attr-defined]
    min_margin: Annotated[
        float,
        typer.Option(
            min=0, metavar="X", help="Drop pairs whose chosen - rejected score is below X."
        ),
    ] = 0.0,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Seed for --rejected random.")
    ] = 0,
) -> None:
    names = None
    if aspects is not None:
        names = tuple(dict.fromkeys(a.strip() for a in aspects.split(",") if a.strip()))
        if not names:
            raise UsageError("--aspects: give at least one aspect name, e.g. --aspects quality")
    options = PairOptions(names, rejected.value, min_margin, seed)
    paths = common.input_paths(inputs)
    with Run("pairs", run) as out:
        out.stream(Pairs(options), out.records(paths))
