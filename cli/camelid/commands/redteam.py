"""`camelid redteam`: topic-guided red-teaming questions (Self-Align's TGRT self-instruct)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.runtime import RunOptions

STAGE = "redteam"
TOKENIZERS = ("unicode", "rouge")


def register(app: typer.Typer) -> None:
    app.command(
        "redteam",
        help="Topic-guided red-teaming (Self-Align): brainstorm topics per question type, then "
        "write questions a model cannot answer without outside information.",
        epilog=epilog(
            "camelid redteam --builtin --topics-per-type 5 -o redteam.jsonl",
            "seed questions (from `camelid seed` on a file like tgrt_seed_questions.jsonl): "
            "instruction, question_type, topic; with --topics FILE: question_type, topic",
            "questions: instruction, question_type, topic, most_similar_instructions, "
            "avg_similarity_score, source redteam, lineage; with --only topics: question_type, "
            "topic, source redteam-topic; dropped candidates go to --rejects with why",
        ),
    )(redteam)


@engine_flags
@run_flags(resumable=True)
def redteam(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Use the 20 built-in types and their questions.")
    ] = False,
    question_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only these question types (repeatable; new ones allowed)."),
    ] = None,
    topics: Annotated[
        str | None, typer.Option("--topics", help="Topic records to use instead of brainstorming.")
    ] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="'topics': write topic records and stop.")
    ] = None,
    topics_per_type: Annotated[int, typer.Option(help="New topics per type.", min=1)] = 10,
    questions_per_topic: Annotated[
        int,
        typer.Option(
            help="Candidates sampled per topic; the first that passes the checks and is novel "
            "is kept: one question per topic.",
            min=1,
        ),
    ] = 2,
    shots: Annotated[int, typer.Option(help="Seed questions shown per prompt.", min=0)] = 4,
    threshold: Annotated[
        float, typer.Option(help="Drop a question whose ROUGE-L F1 to the pool exceeds this.")
    ] = 0.7,
    tokenizer: Annotated[
        str, typer.Option(help="unicode or rouge (see self-instruct).")
    ] = "unicode",
    min_words: Annotated[int, typer.Option(help="Shortest question kept.", min=1)] = 3,
    max_words: Annotated[int, typer.Option(help="Longest question kept.", min=1)] = 80,
    max_prompts: Annotated[
        int, typer.Option(help="Topic prompts before giving up [default: 10 per topic].", min=0)
    ] = 0,
) -> None:
    from camelid.stages.instructions.gate import GateSettings
    from camelid.stages.redteam.run import Plan, run_redteam

    if only not in (None, "topics"):
        raise UsageError(f"--only: the one step that can run alone is 'topics', not {only!r}")
    if only and topics:
        raise UsageError("--only topics and --topics FILE together leave nothing to do")
    if tokenizer not in TOKENIZERS:
        raise UsageError(f"--tokenizer: choose one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    if min_words > max_words:
        raise UsageError(f"--min-words {min_words} is greater than --max-words {max_words}")
    paths = [] if builtin and not inputs else input_paths(inputs)
    if topics:
        input_paths([topics])
    topic_pack, question_pack = load_pack("redteam-topics"), load_pack("redteam-questions")
    overrides = options.sampling_overrides()
    plan = Plan(
        topic_pack=topic_pack,
        question_pack=question_pack,
        topic_sampling=topic_pack.sampling.merged(**overrides, seed=options.seed),
        question_sampling=question_pack.sampling.merged(
            **overrides, seed=options.seed, n=questions_per_topic
        ),
        words=(min_words, max_words),
        rules=GateSettings(threshold=threshold, tokenizer=tokenizer),  # type: ignore[arg-type]  # fmt: skip
        types=question_type,
        builtin=builtin,
        topics_file=topics,
        only_topics=bool(only),
        topics_per_type=topics_per_type,
        shots=shots,
        max_prompts=max_prompts,
        seed=options.seed,
    )
    run_redteam(run, options, paths, plan)
