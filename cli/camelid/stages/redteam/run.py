"""`redteam`'s run: seed questions read, topics brainstormed round by round (or read from a
file), then questions written for each topic in batches; every round and batch committed as it
finishes, so a stopped run resumes where it was (its topics kept in the resume journal)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from camelid.engines import EngineOptions
from camelid.errors import UsageError
from camelid.fields import extra_text
from camelid.packs import Pack
from camelid.records import Record, Reject
from camelid.resources import builtin_dir
from camelid.runtime import BEFORE_LOADING, Chain, Run, RunOptions, batched
from camelid.runtime.engine import open_engine, protect_stdout
from camelid.sampling import Sampling
from camelid.stages.instructions.gate import GateSettings, NoveltyGate
from camelid.stages.redteam.questions import OnePerTopic, QuestionWriter
from camelid.stages.redteam.topics import STAGE, TOPICS, Brainstorm, TopicWriter, topic_record


@dataclass
class Plan:
    topic_pack: Pack
    question_pack: Pack
    topic_sampling: Sampling
    question_sampling: Sampling
    rules: GateSettings  # the novelty threshold and tokenizer
    words: tuple[int, int]  # fewest and most words of a question
    types: list[str] | None  # None: the seeds' types
    builtin: bool
    topics_file: str | None
    only_topics: bool
    topics_per_type: int
    shots: int
    max_prompts: int
    seed: int


def run_redteam(options: RunOptions, engine_options: EngineOptions, paths: list[str],
                plan: Plan) -> None:  # fmt: skip
    protect_stdout()
    stage = TOPICS if plan.only_topics else STAGE
    main = plan.topic_pack if plan.only_topics else plan.question_pack
    sampling = plan.topic_sampling if plan.only_topics else plan.question_sampling
    with Run(STAGE, options, resumable=True) as run:
        run.check_settings([main.lineage(stage, None, sampling)], BEFORE_LOADING)
        seeds = read_seeds(run, paths, plan.builtin)
        types = list(dict.fromkeys(plan.types or [extra_text(s, "question_type") for s in seeds]))
        if not types:
            raise UsageError("no question types: give seed questions, --builtin or --type")
        given = []
        if plan.topics_file:
            given = [t for t in run.records([plan.topics_file])
                     if extra_text(t, "question_type") in types and extra_text(t, "topic")]  # fmt: skip
        with open_engine(engine_options, quiet=options.quiet) as engine:
            writer = TopicWriter(plan.topic_pack, engine, plan.topic_sampling)
            questions = QuestionWriter(plan.question_pack, engine, plan.question_sampling, seeds,
                                       plan.shots, plan.seed, plan.words)  # fmt: skip
            run.check_settings([writer.lineage if plan.only_topics else questions.lineage])
            if not plan.topics_file:
                given = brainstorm(run, plan, writer, seeds, types)
                if plan.only_topics:
                    return
            pool = [s.instruction or "" for s in [*seeds, *run.existing] if s.instruction]
            stages = Chain([questions, OnePerTopic(NoveltyGate(STAGE, plan.rules, pool))])
            todo = list(run.pending(given))
            run.track(len(todo))
            for batch in batched(todo, engine_options.batch_size):
                run.commit(stages(batch), done=[t.id for t in batch])


def brainstorm(run: Run, plan: Plan, writer: TopicWriter, seeds: list[Record],
               types: list[str]) -> list[Record]:  # fmt: skip
    """Topic rounds, each committed: written out with --only topics, else kept in the resume
    journal; a resumed run starts from the topics found before."""
    seed_topics = {t: [extra_text(s, "topic") for s in seeds
                       if extra_text(s, "question_type") == t and extra_text(s, "topic")]
                   for t in types}  # fmt: skip
    found: list[tuple[str, str]] = [tuple(p) for s in run.states() for p in s.get("topics", [])]
    rounds = [s["round"] for s in run.states() if "round" in s]
    boot = Brainstorm(writer, seed_topics, plan.topics_per_type, seed=plan.seed,
                      max_prompts=plan.max_prompts)  # fmt: skip
    for qtype, topic in found:
        boot.found.setdefault(qtype, []).append(topic)
    for round_ in boot.rounds(start=1 + max(rounds, default=-1)):
        pairs = [[extra_text(t, "question_type"), extra_text(t, "topic")] for t in round_.topics]
        written = round_.topics if plan.only_topics else []
        run.commit([*written, *round_.rejects], done=[s.id for s in round_.slots],
                   state={"round": round_.number, "topics": pairs})  # fmt: skip
        found += [tuple(p) for p in pairs]
    short = {t: n for t in types if (n := len(boot.found.get(t, []))) < plan.topics_per_type}
    if short:
        listing = ", ".join(f"{t} ({n})" for t, n in short.items())
        run.note(f"{STAGE}: fewer than {plan.topics_per_type} new topics for: {listing} "
                 "(prompt budget spent)")  # fmt: skip
    return [topic_record(qtype, topic, [writer.lineage]) for qtype, topic in found]


def read_seeds(run: Run, paths: list[str], builtin: bool) -> list[Record]:
    """Seed questions with their type (the TGRT file's own `question` field read as the
    instruction); others go to --rejects with why."""
    seeds = builtin_seeds() if builtin else []
    for record in run.records(paths):
        if not record.instruction and extra_text(record, "question"):
            record = record.model_copy(update={"instruction": extra_text(record, "question")})
        if extra_text(record, "question_type") and record.instruction:
            seeds.append(record)
        else:
            why = "seed has no question_type" if record.instruction else "seed has no question"
            run.reject(Reject.of(STAGE, why, record))
    return seeds


def builtin_seeds() -> list[Record]:
    from camelid.stages.seed.formats import from_redteam

    path = Path(builtin_dir("data")) / "redteam_seeds.jsonl"
    return [from_redteam(orjson.loads(line)) for line in path.read_bytes().splitlines() if line]
