"""redteam: topic rules, balanced brainstorm, question gate, the command's two steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.engines.base import Generation
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import make_record
from camelid.stages.instruction_pool import GateSettings, InstructionGate
from camelid.stages.redteam import (
    QuestionWriter,
    TopicBrainstorm,
    clean_topic,
    topic_record,
    topic_reject,
)
from tests.conftest import REDTEAM_SEEDS, ROOT, camelid

SCIENCE = "Questions that require scientific knowledge"
PEOPLE = "Questions that require knowledge about famous people"


@pytest.mark.parametrize(
    ("raw", "clean", "reason"),
    [
        ("  Coral reefs. ", "Coral reefs", None),
        ('"Black holes"', "Black holes", None),
        ("- Volcanoes", "Volcanoes", None),
        ("", "", "empty topic"),
        ("The history of the world", "The history of the world", "topic has 5 words (at most 3)"),
        ("WATER", "WATER", "repeated topic 'WATER'"),
    ],
)
def test_topic_cleaning_and_rules(raw: str, clean: str, reason: str | None) -> None:
    assert clean_topic(raw) == clean
    assert topic_reject(clean_topic(raw), {"water"}) == reason


def brainstorm(reply, per_type: int, **kw) -> TopicBrainstorm:
    pack = load_pack("redteam-topics")
    seeds = {SCIENCE: ["Water"], PEOPLE: ["Lady Gaga"]}
    engine = ScriptedEngine(reply if callable(reply) else (lambda p, s: reply))
    return TopicBrainstorm(pack, engine, pack.sampling, seeds, per_type, **kw)


def test_brainstorm_balances_types_and_dedups_across_them() -> None:
    def reply(prompt: str, sampling: object) -> str:
        last = prompt.rsplit("Kind of question: ", 1)[1]
        if last.startswith(SCIENCE):
            return " Coral reefs\n3. Gravity\n4. Tides"
        return " coral reefs\n3. Marie Curie\n4. A very long topic name\n5. Pelé\n6. Einstein"

    b = brainstorm(reply, per_type=2)
    records = list(b.run())
    assert [(r.model_extra["question_type"], r.model_extra["topic"]) for r in records] == [
        (SCIENCE, "Coral reefs"), (SCIENCE, "Gravity"), (PEOPLE, "Marie Curie"), (PEOPLE, "Pelé"),
    ]  # fmt: skip
    assert {r.reason for r in b.rejects} == {
        "repeated topic 'coral reefs'", "topic has 5 words (at most 3)",
    }  # fmt: skip
    assert records[0].source == "redteam-topic" and records[0].lineage[0].stage == "redteam.topics"
    assert len({r.id for r in records}) == 4


def test_prompt_shows_other_types_lists_then_the_open_list() -> None:
    b = brainstorm(" Gravity", per_type=1)
    list(b.run())
    prompt = b.engine.sent[0][0]
    assert prompt.endswith(f"Kind of question: {SCIENCE}\nTopics:\n1. Water\n2.")
    assert f"Kind of question: {PEOPLE}\nTopics:\n1. Lady Gaga\n" in prompt


def test_brainstorm_stops_at_its_budget() -> None:
    b = brainstorm(" Water", per_type=3, max_prompts=4)
    assert list(b.run()) == []
    assert len(b.engine.sent) == 4
    assert {r.reason for r in b.rejects} == {"repeated topic 'Water'"}


def test_truncated_reply_loses_its_last_topic() -> None:
    b = brainstorm(lambda p, s: Generation(" Gravity\n3. Quantum fie", "length"), per_type=5,
                   max_prompts=1)  # fmt: skip
    assert [r.model_extra["topic"] for r in b.run()] == ["Gravity"]


def test_questions_pass_the_gate_and_carry_type_topic_lineage() -> None:
    pack = load_pack("redteam-questions")
    replies = iter([" What is the weight of a coral reef today?", " What is the chemical formula of water?",
                    " Why?"])  # fmt: skip
    engine = ScriptedEngine(lambda p, s: next(replies))
    seeds = [
        make_record(instruction="What is the chemical formula of water?", question_type=SCIENCE,
                    topic="Water"),
        make_record(instruction="What is the birth name of Lady Gaga?", question_type=PEOPLE,
                    topic="Lady Gaga"),
    ]  # fmt: skip
    gate = InstructionGate(GateSettings(), [s.instruction for s in seeds])
    writer = QuestionWriter(pack, engine, pack.sampling.merged(n=3), gate, seeds, shots=2)
    topic = topic_record(SCIENCE, "Coral reefs", [])
    kept, rejects = writer.write([topic])
    assert [k.instruction for k in kept] == ["What is the weight of a coral reef today?"]
    (question,) = kept
    assert question.source == "redteam"
    assert (question.model_extra["question_type"], question.model_extra["topic"]) == (
        SCIENCE, "Coral reefs",
    )  # fmt: skip
    assert "most_similar_instructions" in question.model_extra
    assert [r.reason for r in rejects] == [
        "too similar to a pool instruction (ROUGE-L 1.000 > 0.7): "
        "'What is the chemical formula of water?'",
        "instruction has 1 word (allowed 4-150)",
    ]
    prompt = engine.sent[0][0]
    assert prompt.endswith(f"Kind: {SCIENCE}\nTopic: Coral reefs\nQuestion:")
    assert "Topic: Water\n" in prompt and "Topic: Lady Gaga\n" in prompt  # two shots


# ------------------------------------------------------------------ the command


def replies(tmp_path: Path, text: str) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps(text) + "\n")
    return str(path)


def test_cli_only_topics_then_questions_from_the_topics_file(tmp_path: Path) -> None:
    topics = tmp_path / "topics.jsonl"
    first = camelid(
        "redteam", str(REDTEAM_SEEDS), "--only", "topics", "--type", SCIENCE, "--topics-per-type",
        "2", "--engine", "scripted", "--replies", replies(tmp_path, " Gravity\n3. Tides"),
        "-o", str(topics),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    rows = [json.loads(x) for x in topics.read_text().splitlines()]
    assert [(r["question_type"], r["topic"]) for r in rows] == [
        (SCIENCE, "Gravity"),
        (SCIENCE, "Tides"),
    ]
    second = camelid(
        "redteam", str(REDTEAM_SEEDS), "--topics", str(topics), "--questions-per-topic", "1",
        "--engine", "scripted", "--replies",
        replies(tmp_path, " How strong is gravity on the moon of a distant planet?"),
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    out = [json.loads(x) for x in second.stdout.splitlines()]
    assert [(r["topic"], r["source"]) for r in out] == [
        ("Gravity", "redteam")
    ]  # Tides: too similar
    assert [e["stage"] for e in out[0]["lineage"]] == ["redteam.topics", "redteam"]


def test_cli_builtin_has_the_twenty_types(tmp_path: Path) -> None:
    result = camelid(
        "redteam", "--builtin", "--only", "topics", "--topics-per-type", "1", "--engine",
        "scripted", "--replies", replies(tmp_path, " Alpha"), "--max-prompts", "20", "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(x) for x in result.stdout.splitlines()]  # one "Alpha", then repeats
    assert row["topic"] == "Alpha"
    types = {json.loads(x)["question_type"] for x in
             (ROOT / "cli/camelid/data/redteam_seeds.jsonl").read_text().splitlines()}  # fmt: skip
    assert len(types) == 20 and row["question_type"] in types


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "questions"], "--only: the one step that can run alone is 'topics'"),
        (["--only", "topics", "--topics", "x.jsonl"], "leave nothing to do"),
        (["--tokenizer", "bad"], "--tokenizer: choose one of unicode, rouge, not 'bad'"),
    ],
)
def test_cli_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = camelid("redteam", "--builtin", "--engine", "scripted", "--replies",
                     replies(tmp_path, "x"), *args)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr, result.stderr
