"""`camelid seed`: options -> SeedReader -> Run. The logic lives in camelid.stages.seed."""

from __future__ import annotations

from enum import Enum
from itertools import chain
from typing import Annotated

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.runtime import Run, RunOptions
from camelid.stages.seed import documents
from camelid.stages.seed.reader import FORMATS, SeedReader, select

HELP = "Turn seed tasks, instruction sets, chats or documents you already have into records."
DESCRIPTION = f"""{HELP}

Reads Self-Instruct seed tasks, Alpaca (JSON array or JSONL), ShareGPT, chat `messages`,
OpenAssistant message trees (first-turn pairs, best-ranked reply), red-teaming seed questions
(source "redteam-seed"), and documents: .txt, .md and .html files or folders of them, cut into
candidate answers for backtranslation (the text under each heading, navigation and boilerplate
dropped). The format is detected per file unless --format forces it; --builtin adds camelid's
own seed set of varied tasks, --identity conversations about the assistant itself."""

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files or folders to read in order (JSONL, a JSON array, .txt, .md, .html); "
        "'-' or nothing reads stdin.",
        show_default=False,
    ),
]
# typer takes choices as an Enum; the names come from the stage so they are spelled once.
SeedFormat = Enum("SeedFormat", [(name, name) for name in FORMATS], type=str)
Format = Annotated[
    SeedFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="Read every input as this format instead of detecting it.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command(
        "seed",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid seed ../shared/data/self_instruct_seed_tasks.jsonl --shuffle --seed 1 "
            "--limit 20 -o seeds.jsonl",
            "Self-Instruct (id, name, instruction, instances, is_classification); Alpaca "
            "(instruction, input, output); ShareGPT (conversations: from, value); messages "
            "(role, content); OpenAssistant (message_id, parent_id, role, text, rank, lang); "
            "red-team (topic, question_type, question); .txt/.md/.html documents.",
            "instruction, input, output, messages, system, source (seed, redteam-seed or "
            "document), lineage; kept from the input: origin_id, name, instances, "
            "is_classification, topic, question_type, lang, document, heading.",
        ),
    )(seed)


@common.run_flags
def seed(
    run: RunOptions,
    inputs: Inputs = None,
    format: Format = None,
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Start with camelid's built-in seed tasks.")
    ] = False,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity",
            help="Add conversations about who the assistant is and who made it (as Dromedary "
            "added to its data), with --assistant-name and --assistant-maker filled in.",
        ),
    ] = False,
    assistant_name: Annotated[
        str, typer.Option(help="--identity: the assistant's name.")
    ] = "Camel",
    assistant_maker: Annotated[
        str, typer.Option(help="--identity: who made it.")
    ] = "the camelid project",
    limit: Annotated[
        int | None, typer.Option("--limit", min=0, help="Write at most N records.")
    ] = None,
    shuffle: Annotated[
        bool, typer.Option("--shuffle", help="Shuffle the records (reads all input first).")
    ] = False,
    random_seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed for --shuffle: same seed, same order.  [default: 0]"),
    ] = None,
    min_words: Annotated[
        int, typer.Option("--min-words", min=1, help="Documents: shortest segment kept.")
    ] = documents.MIN_WORDS,
    max_words: Annotated[
        int, typer.Option("--max-words", min=1, help="Documents: longest segment kept.")
    ] = documents.MAX_WORDS,
) -> None:
    if random_seed is not None and not shuffle:
        raise UsageError("--seed only orders --shuffle; add --shuffle or drop --seed")
    if min_words > max_words:
        raise UsageError(f"--min-words {min_words} is above --max-words {max_words}")
    if (assistant_name, assistant_maker) != ("Camel", "the camelid project") and not identity:
        raise UsageError("--assistant-name and --assistant-maker go with --identity")
    # With --builtin or --identity alone there is nothing to read from stdin.
    paths = inputs or ([] if builtin or identity else common.input_paths(inputs))
    with Run("seed", run) as out:
        reader = SeedReader(
            format=format.value if format else None,
            skip_bad_lines=run.skip_bad_lines,
            docs=documents.DocOptions(min_words=min_words, max_words=max_words),
            note=out.note,
            on_read=out.count_read,
        )
        items = chain(
            reader.builtin() if builtin else (),
            reader.identity(assistant_name, assistant_maker) if identity else (),
            reader.read(paths),
        )
        out.write(select(items, limit, shuffle, random_seed or 0))
