"""`camelid export`: records -> the files trainers read. Rows come from stages.export_formats."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Annotated

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.runtime import Run, RunOptions
from camelid.stages.export.formats import FORMATS, HF_LAYOUTS
from camelid.stages.export.output import check_folder, check_test_size
from camelid.stages.export.run import ExportPlan, run_export

HELP = "Write records in the formats trainers read: TRL, Alpaca, ShareGPT, OpenAI, datasets."
DESCRIPTION = f"""{HELP}

Formats: messages (TRL conversational), prompt-completion (TRL, conversational: the turns before
the last answer, then the answer), preference (TRL prompt/chosen/rejected, conversational),
openai (chat fine-tuning JSONL: messages of role and content), sharegpt (conversations of
from system/human/gpt and value), alpaca (one JSON array of instruction/input/output, plus
system when there is one), hf (a `datasets` folder, save_to_disk, of train and test splits in
the layout --as names; load it with datasets.load_from_disk).

The user turn is the instruction, a blank line and the input (when there is one), as the plain
pack sends it; the record's system prompt is a system turn (no default one is added). A record
gives a conversation from instruction + output, else from its messages; preference rows need
chosen and rejected (as `camelid pairs` writes them) and an instruction or prompt. A record that
lacks what the format needs goes to --rejects with the reason; with --strict it stops the run
(exit 65, naming file and line) and nothing is written."""

Format = Enum("Format", [(name, name) for name in [*FORMATS, "hf"]], type=str)
Layout = Enum("Layout", [(name, name) for name in HF_LAYOUTS], type=str)
DEFAULT_TEST_SIZE = 0.1


def register(app: typer.Typer) -> None:
    app.command(
        "export",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid export --format preference pairs.jsonl -o dpo.jsonl;  camelid export "
            "--format hf --as messages curated.jsonl --test-size 0.05 -o data/sft",
            "instruction, input, output, system, messages; chosen, rejected, prompt "
            "(preference); source (--humpback-tags)",
            "one row per record in the chosen format: JSONL to stdout or -o FILE, an Alpaca "
            "JSON array, or with --format hf a datasets folder (-o DIR)",
        ),
    )(export_records)


@common.run_flags
def export_records(
    run: RunOptions,
    inputs: common.Inputs = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="What to write (see above).", show_default=False),
    ] = ...,  # type: ignore[assignment]
    layout: Annotated[
        Layout | None,
        typer.Option(
            "--as", help="--format hf: the rows' layout.  [default: messages]", show_default=False
        ),
    ] = None,
    test_size: Annotated[
        float | None,
        typer.Option(
            metavar="X",
            help="--format hf: rows held out as the test split, a fraction (rounded up) or a "
            f"count; 0 for none.  [default: {DEFAULT_TEST_SIZE}]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(metavar="N", help="--format hf: seed of the split.  [default: 0]"),
    ] = None,
    humpback_tags: Annotated[
        bool,
        typer.Option(
            "--humpback-tags",
            help="Records without a system prompt get one that tags their source (seed or "
            "augmented), as Humpback did; the wording is our paraphrase of its two tags.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Stop (exit 65) at a record the format cannot hold."),
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="The file to write (atomically); with --format hf the folder."
        ),
    ] = None,
) -> None:
    name = fmt.value
    size = DEFAULT_TEST_SIZE if test_size is None else test_size
    if name != "hf":
        for flag, value in (("--as", layout), ("--test-size", test_size), ("--seed", seed)):
            if value is not None:
                raise UsageError(f"{flag} goes with --format hf only")
    else:
        if output in (None, "-"):
            raise UsageError("--format hf writes a folder: give it with -o DIR")
        check_test_size(size)
    target = check_folder(output) if name == "hf" and output else None
    paths = common.input_paths(inputs)
    rows_format = (layout.value if layout else "messages") if name == "hf" else name
    jsonl = name not in ("alpaca", "hf")
    plan = ExportPlan(rows_format, humpback_tags, strict, name, output, target, size, seed or 0)
    with Run("export", replace(run, output=output if jsonl else None)) as out:
        run_export(out, paths, plan)
