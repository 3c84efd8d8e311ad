"""`camelid redteam`: topic-guided red-teaming questions (Self-Align's TGRT self-instruct)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
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
from camelid.packs import load_pack
from camelid.pipeline import Reject, Run
from camelid.records import Record
from camelid.resources import builtin_dir
from camelid.resume import RESUME_KEYS, check_settings, load_existing

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
def redteam(
    options: EngineOptions,
    inputs: Inputs = None,
    output: Output = None,
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
    questions_per_topic: Annotated[int, typer.Option(help="Questions per topic.", min=1)] = 2,
    shots: Annotated[int, typer.Option(help="Seed questions shown per prompt.", min=0)] = 4,
    threshold: Annotated[
        float, typer.Option(help="Drop a question whose ROUGE-L F1 to the pool exceeds this.")
    ] = 0.7,
    tokenizer: Annotated[
        str, typer.Option(help="unicode or rouge (see self-instruct).")
    ] = "unicode",
    min_words: Annotated[int, typer.Option(help="Shortest question kept.", min=1)] = 4,
    max_words: Annotated[int, typer.Option(help="Longest question kept.", min=1)] = 150,
    max_prompts: Annotated[
        int, typer.Option(help="Topic prompts before giving up [default: 10 per topic].", min=0)
    ] = 0,
    resume: Annotated[bool, typer.Option(help="Continue the run in -o FILE.")] = False,
    force: Annotated[bool, typer.Option(help="With --resume: go on if settings changed.")] = False,
    rejects: Rejects = None,
    skip_bad_lines: SkipBadLines = False,
    quiet: Quiet = False,
) -> None:
    from camelid.stages.instruction_pool import GateSettings, InstructionGate
    from camelid.stages.redteam import QuestionWriter, TopicBrainstorm

    if only not in (None, "topics"):
        raise UsageError(f"--only: the one step that can run alone is 'topics', not {only!r}")
    if only and topics:
        raise UsageError("--only topics and --topics FILE together leave nothing to do")
    if tokenizer not in TOKENIZERS:
        raise UsageError(f"--tokenizer: choose one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    paths = [] if builtin and not inputs else input_paths(inputs)
    if topics:
        input_paths([topics])
    topic_pack, question_pack = load_pack("redteam-topics"), load_pack("redteam-questions")
    stage = STAGE + ".topics" if only else STAGE
    main = topic_pack if only else question_pack
    topic_sampling = topic_pack.sampling.merged(**options.sampling_overrides(), seed=options.seed)
    question_sampling = question_pack.sampling.merged(
        **options.sampling_overrides(), seed=options.seed, n=questions_per_topic
    )
    sampling = topic_sampling if only else question_sampling
    existing = load_existing(output, resume)
    keys = tuple(k for k in RESUME_KEYS if k != "model")
    check_settings(existing, stage, main.lineage(stage, None, sampling), output or "-", force, keys)

    protect_stdout()
    with Run(STAGE, output, rejects, skip_bad_lines, quiet, append=resume, resumable=True) as run:
        seeds = _builtin_seeds() if builtin else []
        for record in run.records(paths):
            if not record.instruction and _field(record, "question"):  # the TGRT file itself
                record = record.model_copy(update={"instruction": _field(record, "question")})
            if _field(record, "question_type") and record.instruction:
                seeds.append(record)
            else:
                why = "seed has no question_type" if record.instruction else "seed has no question"
                run.reject(Reject(STAGE, why, record=record, where=record._where or None))
        types = list(dict.fromkeys(question_type or [_field(s, "question_type") for s in seeds]))
        if not types:
            raise UsageError("no question types: give seed questions, --builtin or --type")
        given = [t for t in run.records([topics])] if topics else []
        if topics:
            given = [t for t in given if _field(t, "question_type") in types and _field(t, "topic")]
        done = {(_field(r, "question_type"), _field(r, "topic")) for r in existing}
        with open_engine(options, quiet=quiet) as engine:
            check_settings(existing, stage, main.lineage(stage, engine.model, sampling),
                           output or "-", force)  # fmt: skip
            if not topics:
                seed_topics = {t: [_field(s, "topic") for s in seeds
                                   if _field(s, "question_type") == t and _field(s, "topic")]
                               for t in types}  # fmt: skip
                brainstorm = TopicBrainstorm(
                    topic_pack, engine, topic_sampling, seed_topics, topics_per_type,
                    seed=options.seed, max_prompts=max_prompts, model=engine.model,
                )  # fmt: skip
                for r in existing if only else []:  # resumed topics count toward each type
                    brainstorm.found.setdefault(_field(r, "question_type"), []).append(
                        _field(r, "topic")
                    )
                given = list(brainstorm.run())
                run.write_all(brainstorm.rejects)
                _report_short(run, brainstorm.found, types, topics_per_type)
                if only:
                    run.write_all(given)
                    return
            todo = [
                t for t in given if (_field(t, "question_type"), _field(t, "topic")) not in done
            ]
            gate = InstructionGate(
                GateSettings(min_words=min_words, max_words=max_words, threshold=threshold,
                             tokenizer=tokenizer),  # type: ignore[arg-type]
                [s.instruction or "" for s in [*seeds, *existing] if s.instruction],
            )  # fmt: skip
            writer = QuestionWriter(
                question_pack, engine, question_sampling, gate, seeds, shots=shots,
                seed=options.seed, model=engine.model,
            )  # fmt: skip
            for start in range(0, len(todo), options.batch_size):
                kept, dropped = writer.write(todo[start : start + options.batch_size])
                run.write_all([*kept, *dropped])
                run.flush()


def _field(record: Record, name: str) -> str:
    value = (record.model_extra or {}).get(name)
    return value.strip() if isinstance(value, str) else ""


def _builtin_seeds() -> list[Record]:
    from camelid.stages.seed_formats import from_redteam

    path = Path(builtin_dir("data")) / "redteam_seeds.jsonl"
    return [from_redteam(orjson.loads(line)) for line in path.read_bytes().splitlines() if line]


def _report_short(run: Run, found: dict[str, list[str]], types: list[str], wanted: int) -> None:
    short = {t: len(found.get(t, [])) for t in types if len(found.get(t, [])) < wanted}
    if short:
        listing = ", ".join(f"{t} ({n})" for t, n in short.items())
        run.note(f"{STAGE}: fewer than {wanted} new topics for: {listing} (prompt budget spent)")
