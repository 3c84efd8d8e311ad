"""redteam: topic rules, balanced brainstorm, question gate, the command's two steps."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from camelid.engines.base import Generation
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import Record, Reject, make_record
from camelid.runtime import Chain
from camelid.stages.instructions.gate import GateSettings, NoveltyGate
from camelid.stages.redteam.questions import OnePerTopic, QuestionWriter
from camelid.stages.redteam.topics import (
    Brainstorm,
    TopicWriter,
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


def brainstorm(reply, per_type: int, **kw) -> Brainstorm:
    pack = load_pack("redteam-topics")
    seeds = {SCIENCE: ["Water"], PEOPLE: ["Lady Gaga"]}
    engine = ScriptedEngine(reply if callable(reply) else (lambda p, s: reply))
    return Brainstorm(TopicWriter(pack, engine, pack.sampling), seeds, per_type, **kw)


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
    prompt = b.writer.engine.sent[0][0]
    assert prompt.endswith(f"Kind of question: {SCIENCE}\nTopics:\n1. Water\n2.")
    assert f"Kind of question: {PEOPLE}\nTopics:\n1. Lady Gaga\n" in prompt


def test_brainstorm_stops_at_its_budget() -> None:
    b = brainstorm(" Water", per_type=3, max_prompts=4)
    assert list(b.run()) == []
    assert len(b.writer.engine.sent) == 4
    assert {r.reason for r in b.rejects} == {"repeated topic 'Water'"}


def test_truncated_reply_loses_its_last_topic() -> None:
    b = brainstorm(lambda p, s: Generation(" Gravity\n3. Quantum fie", "length"), per_type=5,
                   max_prompts=1)  # fmt: skip
    assert [r.model_extra["topic"] for r in b.run()] == ["Gravity"]


def question_writer(replies, seeds=None):
    pack = load_pack("redteam-questions")
    replies = iter(replies)
    engine = ScriptedEngine(lambda p, s: next(replies))
    seeds = seeds or [
        make_record(instruction="What is the chemical formula of water?", question_type=SCIENCE,
                    topic="Water"),
        make_record(instruction="What is the birth name of Lady Gaga?", question_type=PEOPLE,
                    topic="Lady Gaga"),
    ]  # fmt: skip
    gate = NoveltyGate("redteam", GateSettings(), [s.instruction for s in seeds])
    writer = QuestionWriter(pack, engine, pack.sampling.merged(n=3), seeds, shots=2)
    return Chain([writer, OnePerTopic(gate)]), engine


def test_one_question_per_topic_the_first_that_passes_checks_and_novelty() -> None:
    stages, engine = question_writer([" What is the chemical formula of water?", " Why?",
                                      " What is the weight of a coral reef today?"])  # fmt: skip
    made = stages([topic_record(SCIENCE, "Coral reefs", [])])
    kept = [o for o in made if isinstance(o, Record)]
    rejects = [o for o in made if isinstance(o, Reject)]
    assert [k.instruction for k in kept] == ["What is the weight of a coral reef today?"]
    (question,) = kept
    assert question.source == "redteam"
    assert (question.model_extra["question_type"], question.model_extra["topic"]) == (
        SCIENCE, "Coral reefs",
    )  # fmt: skip
    assert "most_similar_instructions" in question.model_extra
    assert [r.reason for r in rejects] == [  # the checks' rejects first, then the gate's
        "question has 1 word (at least 3)",
        "too similar to a pool instruction (ROUGE-L 1.000 > 0.7): "
        "'What is the chemical formula of water?'",
    ]
    prompt = engine.sent[0][0]
    assert prompt.endswith(f"Kind: {SCIENCE}\nTopic: Coral reefs\nQuestion:")
    assert "Topic: Water\n" in prompt and "Topic: Lady Gaga\n" in prompt  # two shots
    stages, _ = question_writer([" Which coral reef is the largest?", " Where do reefs grow?",
                                 " How old is the oldest coral reef?"])  # fmt: skip
    made = stages([topic_record(SCIENCE, "Coral reefs", [])])
    assert [o.instruction for o in made if isinstance(o, Record)] == [
        "Which coral reef is the largest?"]  # fmt: skip
    assert {o.reason for o in made if isinstance(o, Reject)} == {
        "a question for this topic is already kept"}  # fmt: skip


def test_red_team_questions_are_not_held_to_self_instructs_blacklist() -> None:
    """The red-team types ask about real places, apps and paperwork: "file", "map" and "go to"
    are what Self-Instruct's blacklist drops, and what these questions are about."""
    asked = [" How do I file a complaint against my landlord in Ohio?",
             " Which map app shows live traffic in Lagos right now?",
             " When should I go to the Louvre to avoid the crowds tomorrow?"]  # fmt: skip
    topics = [topic_record(t, topic, []) for t, topic in
              [(PEOPLE, "Landlords"), (SCIENCE, "Traffic"), (PEOPLE, "Museums")]]  # fmt: skip
    kept = []
    for reply, topic in zip(asked, topics, strict=True):
        stages, _ = question_writer([reply] * 3)
        kept += [o.instruction for o in stages([topic]) if isinstance(o, Record)]
    assert kept == [a.strip() for a in asked]
    from camelid.stages.redteam.questions import question_reject

    assert question_reject("The weather in Lima.") == (
        "not a question (it does not end with a question mark)")  # fmt: skip


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


# ------------------------------------------------------------------ stopped and resumed

SEEDS_TYPES = ["Questions that require scientific knowledge",
               "Questions that require knowledge about famous people"]  # fmt: skip
WORDS = ["amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo",
         "jasper", "kelp", "lagoon", "meadow", "nectar", "opal", "prism"]  # fmt: skip


VOCABULARY = [
    "river",
    "castle",
    "violin",
    "orbit",
    "lantern",
    "glacier",
    "festival",
    "copper",
    "senate",
    "harvest",
    "tunnel",
    "comet",
    "parliament",
    "orchard",
    "volcano",
    "treaty",
    "ballet",
    "canyon",
    "monsoon",
    "railway",
    "bazaar",
    "telescope",
    "vineyard",
    "dynasty",
    "lighthouse",
    "typhoon",
    "manuscript",
    "citadel",
]


def tgrt_reply(body: dict, headers: dict) -> tuple:
    """One new topic per topic prompt, one question per question prompt, chosen by the prompt:
    an interrupted-and-resumed run must then equal an uninterrupted one."""
    from tests.fake_openai import choice, last_user_turn

    prompt = last_user_turn(body)
    key = int.from_bytes(prompt.encode()[-400:], "big") % 997
    if prompt.endswith("Question:"):
        rng = random.Random(prompt)
        return choice(" Which " + " ".join(rng.sample(VOCABULARY, 8)) + "?")
    return choice(f" {WORDS[key % len(WORDS)]} {key}")


def tgrt(server: str, out: Path, *extra: str) -> list[str]:
    import sys

    config = out.parent / "engine.yaml"
    config.write_text("max_retries: 0\nconcurrency: 1\n")
    types = [arg for t in SEEDS_TYPES for arg in ("--type", t)]
    return [sys.executable, "-m", "camelid", "redteam", str(REDTEAM_SEEDS), *types,
            "--engine", "openai", "--base-url", server, "--config", str(config),
            "--batch-size", "1", "-o", str(out), *extra]  # fmt: skip


def stop_once(args: list[str], out: Path, lines: int) -> None:
    """Run, and SIGTERM the run once `out` holds that many lines."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= lines:
            proc.send_signal(signal.SIGTERM)
            break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err


def test_topics_are_kept_round_by_round_and_a_stopped_run_resumes(
    tmp_path: Path, fake_openai
) -> None:
    import subprocess

    fast, slow = fake_openai(tgrt_reply), fake_openai(tgrt_reply, delay=0.4)
    reference = tmp_path / "reference.jsonl"
    args = ("--only", "topics", "--topics-per-type", "3")
    done = subprocess.run(tgrt(fast.url, reference, *args), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(reference.read_text().splitlines()) == 6
    out = tmp_path / "out.jsonl"
    stop_once(tgrt(slow.url, out, *args), out, lines=2)  # round 0 written, then stopped
    assert 2 <= len(out.read_text().splitlines()) < 6
    done = subprocess.run(tgrt(fast.url, out, *args, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == reference.read_text()


def test_a_resumed_full_run_does_not_brainstorm_its_topics_again(
    tmp_path: Path, fake_openai
) -> None:
    import subprocess

    reference = tmp_path / "reference.jsonl"
    args = ("--topics-per-type", "2", "--questions-per-topic", "1")
    fast = fake_openai(tgrt_reply)
    done = subprocess.run(tgrt(fast.url, reference, *args), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(reference.read_text().splitlines()) == 4  # a question for each of 4 topics
    slow = fake_openai(tgrt_reply, delay=0.4)
    out = tmp_path / "out.jsonl"
    stop_once(tgrt(slow.url, out, *args), out, lines=1)  # stopped among the questions
    again = fake_openai(tgrt_reply)
    done = subprocess.run(tgrt(again.url, out, *args, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == reference.read_text()
    assert again.prompts() and all(p.endswith("Question:") for p in again.prompts())
