"""`backtranslate` with the scripted engine: every filter rule and parser, records, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.engines.base import Generation, Result
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import LineageEntry, Record, Reject
from camelid.runtime import batched
from camelid.stages.backtranslate.filters import Exemplar, instruction_problem
from camelid.stages.backtranslate.stage import (
    Backtranslate,
    backward_messages,
    exemplars,
    max_chars,
    read_instruction,
)
from camelid.stages.backtranslate.tags import AUGMENTED_TAG, SEED_TAG, tag_system_prompt
from camelid.text import word_tokens as words
from tests.conftest import camelid

SEGMENT = (
    "Call setfirstweekday() with 6 to make the calendars start on Sunday. By default they "
    "start on Monday, as the European convention and ISO 8601 have it."
)
VENV = Exemplar("What is a Python virtual environment, and how do I make one?", ("virtual", "venv"))


# ---------------------------------------------------------------- filter rules


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ("", "empty instruction"),
        ("  \n ", "empty instruction"),
        ("{#{#{#{#", "instruction has 0 words (at least 3)"),
        ("Why?", "instruction has 1 word (at least 3)"),
        ("Explain calendars", "instruction has 2 words (at least 3)"),
        ("Explain" + " calendars" * 150, "instruction has 151 words (at most 150)"),
        ("The calendar starts on Monday.", "instruction is neither a question nor a request"),
        ("Sunday first weeks, please.", "instruction is neither a question nor a request"),
        ("What does this text say about weeks?",
         "instruction refers to a text it does not include ('this text')"),
        ("Summarize the above in one line.",
         "instruction refers to a text it does not include ('the above')"),
        ("Translate the text into French.",
         "instruction refers to a text it does not include ('the text')"),
        ("Explain the following passage to a child.",
         "instruction refers to a text it does not include ('following passage')"),
        ("How do I set Sunday or Monday or Sunday or Monday or Sunday or Monday?",
         "instruction repeats the phrase 'sunday or monday'"),
        ("By default they start on Monday.", "instruction is copied from the segment"),
        ("call SETFIRSTWEEKDAY() with 6!", "instruction is copied from the segment"),
        ("What is a Python virtual environment, and how do I make one?",
         "instruction repeats an in-context example"),
        ("How do I start calendars in a virtual week?",
         "instruction mentions 'virtual' from an in-context example"),
    ],
)  # fmt: skip
def test_instruction_rules(instruction: str, reason: str) -> None:
    assert instruction_problem(instruction, SEGMENT, [VENV]) == reason


@pytest.mark.parametrize(
    "instruction",
    [
        "How do I make Python calendars start on Sunday?",
        "Make my calendars start on Sunday",  # a request, no question mark needed
        "The week starts on Monday in Europe, right?",  # a question, whatever its first word
        "I want weeks to start on Sunday in my calendar.",
        "By default, do they start on Monday?",  # not a verbatim run of the segment's words
        "What is the answer to 17 x 3?",  # "the answer" alone points at no text
    ],
)
def test_good_instructions_are_kept(instruction: str) -> None:
    assert instruction_problem(instruction, SEGMENT, [VENV]) is None


def test_topic_word_found_in_the_segment_is_not_a_leak() -> None:
    segment = "A virtual machine runs a whole operating system inside another one."
    assert instruction_problem("What is a virtual machine?", segment, [VENV]) is None


def test_reply_length_bound() -> None:
    at_bound = ("Explain " + " ".join(f"w{i:03d}" for i in range(80)))[:300]
    assert len(at_bound) == 300
    assert (
        instruction_problem(at_bound, SEGMENT, max_chars=300)
        == "instruction reached the 300-character limit of the reply"
    )
    assert instruction_problem(at_bound[:-1], SEGMENT, max_chars=300) is None
    assert instruction_problem(at_bound, SEGMENT) is None


def test_words_are_lowercased_with_inner_apostrophes_kept() -> None:
    expected = ["don't", "stop", "it's", "3", "o'clock", "ok"]
    assert words("Don’t stop—it's 3 o'clock, _ok_?") == expected


def test_the_default_packs_examples_pass_the_rules_themselves() -> None:
    pack = load_pack("backtranslate")
    rows = pack.examples
    assert len(rows) == len(exemplars(pack)) == 2
    for row in rows:
        assert instruction_problem(row["instruction"], row["answer"], max_chars=300) is None
        assert all(t in words(row["instruction"] + " " + row["answer"]) for t in row["topic_words"])


# ---------------------------------------------------------------- parsers and packs


@pytest.mark.parametrize(
    ("pack", "reply", "expected"),
    [
        ("backtranslate", '{"instruction":"  How do heaps work?  "}', ("How do heaps work?", None)),
        ("backtranslate", "not json",
         (None, "reply is not valid JSON: invalid literal, expected 'null'")),
        ("backtranslate", '{"instruction":"How', (None, "reply is not valid JSON: unexpected end of data")),
        ("backtranslate", '{"question":"How?"}', (None, "reply lacks instruction")),
        ("backtranslate", '{"instruction":5}', (None, "reply holds no instruction text")),
        ("backward", "  Explain heaps in Python.\n", ("Explain heaps in Python.", None)),
    ],
)  # fmt: skip
def test_read_instruction(pack: str, reply: str, expected: tuple) -> None:
    assert read_instruction(load_pack(pack), reply) == expected


@pytest.mark.parametrize(
    "output", ["plain", "  spaced  \n", "{{ not a template }}", "one\n\ntwo\n", "ünï ✓"]
)
def test_backward_pack_sends_exactly_backward_messages(output: str) -> None:
    assert load_pack("backward").render(Record(output=output)) == backward_messages(output)
    assert backward_messages(output) == [{"role": "user", "content": output}]


def test_default_pack_prompt_is_a_fixed_prefix_then_the_segment() -> None:
    pack = load_pack("backtranslate")
    a, b = pack.render(Record(output=SEGMENT)), pack.render(Record(output="Other text."))
    assert a[:-1] == b[:-1]  # same for every record: vLLM's prefix cache serves it
    assert a[-1] == {"role": "user", "content": f"Text:\n{SEGMENT}"}
    assert [m["role"] for m in a] == ["system"] + ["user", "assistant"] * 2 + ["user"]
    for message, row in zip(a[2:-1:2], pack.examples, strict=True):
        assert json.loads(message["content"]) == {"instruction": row["instruction"]}
    assert max_chars(pack) == 300 and max_chars(load_pack("backward")) is None
    assert pack.sampling.json_schema["required"] == ["instruction"]


# ---------------------------------------------------------------- the stage


def run(records: list[dict], engine: ScriptedEngine, pack: str = "backtranslate") -> list:
    p = load_pack(pack)
    stage = Backtranslate(p, engine, p.sampling.merged(seed=1))
    recs = [Record.model_validate(r) for r in records]
    return [x for batch in batched(recs, 2) for x in stage(batch)]


def test_segment_gets_its_instruction() -> None:
    seed = LineageEntry(stage="seed", format="documents")
    segment = {"output": SEGMENT, "source": "document", "document": "cal.md", "heading": "Weeks",
               "lineage": [seed.model_dump(exclude_none=True)]}  # fmt: skip
    engine = ScriptedEngine(['{"instruction":"How do I make calendars start on Sunday?"}'])
    [out] = run([segment], engine)
    assert out.instruction == "How do I make calendars start on Sunday?"
    assert (out.output, out.source, out.id) == (SEGMENT, "augmented", Record(**segment).id)
    assert out.to_dict()["document"] == "cal.md" and out.to_dict()["heading"] == "Weeks"
    entry = out.lineage[-1]
    assert [e.stage for e in out.lineage] == ["seed", "backtranslate"]
    assert (entry.pack, entry.model, entry.seed) == ("backtranslate", "scripted", 1)
    assert entry.sampling["temperature"] == 0.0
    [(prompt, sampling)] = engine.sent
    assert prompt[-1]["content"] == f"Text:\n{SEGMENT}"
    assert sampling.json_schema["properties"]["instruction"]["maxLength"] == 300


def test_rejects_keep_the_reason_and_the_reply_and_order_is_kept() -> None:
    too_long = Result(error="prompt is 5000 tokens; the model's context is 2048 (--max-model-len)")
    cut = Generation('{"instruction":"How do', "length")
    engine = ScriptedEngine(
        ['{"instruction":"Why do weeks start on Monday?"}', too_long, cut,
         '{"instruction":"By default they start on Monday."}', '{"instruction":"Explain Sunday weeks."}']
    )  # fmt: skip
    records = [{"output": SEGMENT, "n": i} for i in range(5)]
    records.insert(2, {"instruction": "Already there?", "output": SEGMENT})
    records.insert(4, {"input": "no output here"})
    out = run(records, engine)
    kept = [o for o in out if isinstance(o, Record)]
    assert [(o.to_dict()["n"], o.instruction) for o in kept] == [
        (0, "Why do weeks start on Monday?"), (4, "Explain Sunday weeks.")
    ]  # fmt: skip
    reasons = [(o.reason, (o.record.to_dict() if isinstance(o.record, Record) else o.record).get("reply"))
               for o in out if isinstance(o, Reject)]  # fmt: skip
    assert sorted(reasons, key=str) == sorted([
        (too_long.error, None),
        ("reply cut off at --max-tokens 400", '{"instruction":"How do'),
        ("instruction is copied from the segment", '{"instruction":"By default they start on Monday."}'),
        ("already has an instruction (backtranslate labels bare segments)", None),
        ("lacks output, which pack backtranslate needs", None),
    ], key=str)  # fmt: skip
    assert all(o.stage == "backtranslate" for o in out if isinstance(o, Reject))
    assert len(engine.sent) == 5  # neither the labelled record nor the empty one was sent


def test_backward_pack_sends_the_segment_alone() -> None:
    engine = ScriptedEngine(["Explain why calendars start on Monday by default."], model="bw")
    [out] = run([{"output": SEGMENT}], engine, pack="backward")
    assert out.instruction == "Explain why calendars start on Monday by default."
    assert engine.sent[0][0] == backward_messages(SEGMENT)
    assert (out.lineage[-1].pack, out.lineage[-1].model) == ("backward", "bw")


# ---------------------------------------------------------------- Humpback tags


def test_tags_by_source() -> None:
    assert tag_system_prompt(Record(instruction="a", output="b", source="seed")) == SEED_TAG
    assert tag_system_prompt(Record(output="b", source="augmented")) == AUGMENTED_TAG
    for source in (None, "generated", "document", "redteam-seed"):
        assert tag_system_prompt(Record(output="b", source=source)) is None
    assert SEED_TAG != AUGMENTED_TAG


# ---------------------------------------------------------------- the CLI


def write_replies(tmp_path: Path, replies: list[str]) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in replies))
    return str(path)


def test_cli_writes_augmented_records_and_rejects(tmp_path: Path) -> None:
    replies = write_replies(
        tmp_path, ['{"instruction":"Why do weeks start on Monday?"}', '{"instruction":""}']
    )
    segments = "".join(json.dumps({"output": SEGMENT, "n": i}) + "\n" for i in range(2))
    rejects = tmp_path / "rejects.jsonl"
    result = camelid("backtranslate", "--engine", "scripted", "--replies", replies,
                     "--rejects", str(rejects), input=segments)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (record["instruction"], record["output"], record["source"], record["n"]) == (
        "Why do weeks start on Monday?", SEGMENT, "augmented", 0
    )  # fmt: skip
    assert record["lineage"][-1]["stage"] == "backtranslate"
    [reject] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert (reject["reason"], reject["record"]["n"]) == ("empty instruction", 1)
    assert "backtranslate: read 2, wrote 1, rejected 1" in result.stderr


def test_cli_backward_pack_uses_the_given_model(tmp_path: Path) -> None:
    replies = write_replies(tmp_path, ["Why do calendars start on Monday?"])
    result = camelid("backtranslate", "--pack", "backward", "--model", "my-backward",
                     "--engine", "scripted", "--replies", replies, "-q",
                     input=json.dumps({"output": SEGMENT}) + "\n")  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["lineage"][-1]["model"] == "my-backward"
    assert record["lineage"][-1]["pack"] == "backward"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pack", "backward"],
         "--pack backward needs --model: a backward model trained by `camelid train --task "
         "backward` (the default model answers, it does not backtranslate)"),
        (["--pack", "humpback"],
         "--pack humpback: pack humpback does not take a segment (a backtranslation pack lists "
         "output in its inputs)"),
    ],
)  # fmt: skip
def test_cli_refuses_wrong_packs_before_loading_a_model(args: list[str], message: str) -> None:
    result = camelid("backtranslate", *args, input="")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"camelid: error: {message}\n",
    )


def test_cli_help_has_example_and_fields() -> None:
    result = camelid("backtranslate", "--help")
    assert result.returncode == 0
    for part in ("Example:  camelid seed docs/ | camelid backtranslate", "Reads: output",
                 "Writes: instruction, source: augmented", "--pack"):  # fmt: skip
        assert part in result.stdout
