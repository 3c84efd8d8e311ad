"""`respond --pack explain` (Orca's explanation traces) with the scripted engine: a system
message drawn per record among those that suit its kind of task, seeded and batch-independent,
recorded in `system` (which sft trains with) and named in `system_message` and the lineage."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from camelid.engines.base import record_seed
from camelid.engines.openai_engine import OpenAIEngine
from camelid.engines.options import EngineOptions
from camelid.engines.scripted import ScriptedEngine
from camelid.errors import CamelidError, UsageError
from camelid.packs import list_builtin, load_pack
from camelid.records import Record
from camelid.runtime import batched
from camelid.stages.respond import system_messages as sm
from camelid.stages.respond.stage import Responder, answer_with_pool, uses_system
from camelid.stages.train.data import Prompting, sft_rows
from tests.conftest import camelid
from tests.fake_openai import choice

PACK = load_pack("explain")
MENU = sm.load(PACK)
BY_NAME = {m.name: m for m in MENU}

CHOICE = "Which planet is largest?\nA) Mars\nB) Jupiter\nC) Venus"
RECORDS = [
    {"instruction": "Name a colour."},
    {"instruction": CHOICE},
    {"instruction": "Calculate 12 * 7 and explain."},
    {"instruction": "Translate into French.", "input": "Good morning."},
    {"instruction": "Classify the sentiment of the review.", "input": "Great food, slow staff."},
] + [{"instruction": f"Write a sentence about topic {i}."} for i in range(20)]


def respond(records: list[dict], batch_size: int, seed: int = 3) -> tuple[list, ScriptedEngine]:
    engine = ScriptedEngine(["An answer, because reasons."], cycle=True)
    responder = Responder(PACK, PACK.sampling.merged(seed=seed), ["teacher"]).serving(engine, 0)
    recs = [Record.model_validate(r) for r in records]
    return [x for batch in batched(recs, batch_size) for x in responder(batch)], engine


def test_sixteen_distinct_messages_in_a_builtin_chat_pack() -> None:
    assert "explain" in list_builtin() and uses_system(PACK)
    assert len(MENU) == 16
    assert len({m.name for m in MENU}) == len({m.text for m in MENU}) == 16
    kinds = {k for m in MENU for k in m.suits}
    assert kinds == {"any", "multiple_choice", "reasoning", "translation", "with_input"}
    assert PACK.sampling.max_tokens == 1024


@pytest.mark.parametrize(
    ("record", "kinds"),
    [
        ({"instruction": "Name a colour."}, {"any"}),
        ({"instruction": CHOICE}, {"any", "multiple_choice"}),
        ({"instruction": "Pick one. Options: red, blue"}, {"any", "multiple_choice"}),
        ({"instruction": "1. Wash\n2. Dry\nList the steps."}, {"any"}),  # a list, not options
        ({"instruction": "How many legs do 3 spiders have?"}, {"any", "reasoning"}),
        ({"instruction": "What is 4 + 5?"}, {"any", "reasoning"}),
        (
            {"instruction": "Explain the calculation.", "input": "5 km"},
            {"any", "reasoning", "with_input"},
        ),
        ({"instruction": "Which computer is best?"}, {"any"}),
        ({"instruction": "Translate this.", "input": "Hola"}, {"any", "translation", "with_input"}),
        ({"instruction": "Summarise.", "input": "  "}, {"any"}),
    ],
)
def test_kinds_of_task(record: dict, kinds: set[str]) -> None:
    assert sm.kinds(Record.model_validate(record)) == kinds


def test_a_message_is_drawn_only_among_those_that_suit_the_record() -> None:
    seen: dict[str, set[str]] = {}
    for record in RECORDS:
        rec = Record.model_validate(record)
        mine = sm.kinds(rec)
        names = {sm.choose(MENU, seed, rec, 0).name for seed in range(200)}
        assert all(mine.intersection(BY_NAME[n].suits) for n in names), (record, names)
        assert names == {m.name for m in sm.suitable(MENU, rec)}  # every suitable one can come
        seen[record["instruction"]] = names
    plain = seen["Name a colour."]
    assert "choice_and_why_not" not in plain and "translator" not in plain
    assert "choice_and_why_not" in seen[CHOICE] and "translator" in seen["Translate into French."]


def test_drawn_per_record_recorded_in_system_and_independent_of_batching() -> None:
    one, engine = respond(RECORDS, batch_size=1)
    many, _ = respond(RECORDS, batch_size=7)
    assert [r.model_dump() for r in one] == [r.model_dump() for r in many]
    for record, (prompt, _) in zip(one, engine.sent, strict=True):
        drawn = sm.choose(MENU, 3, record.model_copy(update={"system": None}), 0)
        assert record.system == drawn.text == prompt[0]["content"]
        assert record.system_message == drawn.name
        assert record.lineage[-1].system_message == drawn.name
        assert record.lineage[-1].system_messages == 16
    assert engine.seeds[0] == record_seed(3, f"{one[0].id}:teacher:0")
    assert len({r.system_message for r in one}) > 4  # the draw varies over records
    other, _ = respond(RECORDS, batch_size=7, seed=4)
    assert [r.system for r in other] != [r.system for r in one]


def test_sft_trains_with_the_message_that_produced_the_answer() -> None:
    [record], _ = respond([{"instruction": CHOICE}], batch_size=1)
    [row] = sft_rows(record, Prompting(load_pack("plain")))
    assert row["prompt"][0] == {"role": "system", "content": record.system}
    assert row["completion"] == [{"role": "assistant", "content": record.output}]


def test_own_system_prompt_comes_first_and_completions_carry_theirs() -> None:
    @contextmanager
    def open_model(index: int):
        yield ScriptedEngine(["x", "y"], cycle=True)

    responder = Responder(PACK, PACK.sampling.merged(n=3, seed=1), ["a", "b"])
    [record] = answer_with_pool(
        [Record(instruction="Name a colour.", system="Be brief.")], responder, open_model
    )
    assert record.system == "Be brief." and len(record.completions) == 3
    for slot, completion in enumerate(record.completions):
        drawn = sm.choose(MENU, 1, record, slot)
        assert completion.system == f"Be brief.\n\n{drawn.text}"
        assert completion.system_message == drawn.name


def test_principle_prompts_and_pack_messages_are_one_or_the_other() -> None:
    with pytest.raises(UsageError, match="draws its own system messages"):
        Responder(PACK, PACK.sampling, ["m"], principle_prompts=True)


def test_a_user_pack_can_carry_its_own_messages(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("pack.yaml", "system.jinja", "user.jinja"):
        (folder / name).write_text((PACK.path / name).read_text())
    (folder / sm.FILE).write_text("- {name: only, suits: [any], text: Be terse.}\n")
    pack = load_pack(str(folder))
    engine = ScriptedEngine(["ok"])
    [record] = Responder(pack, pack.sampling, ["m"]).serving(engine, 0)([Record(instruction="Hi")])
    assert (record.system, record.system_message) == ("Be terse.", "only")
    (folder / "bad").mkdir()
    bad = folder / "bad"
    for name in ("pack.yaml", "system.jinja", "user.jinja"):
        (bad / name).write_text((PACK.path / name).read_text())
    (bad / sm.FILE).write_text("- {name: only, suits: [multiple_choice], text: Pick.}\n")
    with pytest.raises(CamelidError, match="needs a message that suits `any` task"):
        sm.load(load_pack(str(bad)))


def test_cli_explain_with_the_scripted_engine(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[:5]))
    replies = tmp_path / "r.jsonl"
    replies.write_text('"Jupiter, because it is the largest."\n')
    args = ["respond", str(records), "--pack", "explain", "--engine", "scripted",
            "--replies", str(replies), "--seed", "2"]  # fmt: skip
    result = camelid(*args)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    texts = {m.text for m in MENU}
    assert len(out) == 5 and all(r["system"] in texts for r in out)
    assert all(r["lineage"][-1]["system_message"] == r["system_message"] for r in out)
    assert camelid(*args, "--batch-size", "2").stdout == result.stdout
    refused = camelid(*args, "--principle-prompts")
    assert refused.returncode == 2 and "draws its own system messages" in refused.stderr


def test_a_teacher_over_the_openai_engine_sees_the_drawn_message(fake_openai) -> None:
    seen: list[str] = []

    def teacher(body: dict, headers: dict) -> tuple:
        seen.append(body["messages"][0]["content"])
        return choice("B) apple: a fruit; a carrot is a root.", completion_tokens=9)

    server = fake_openai(teacher)
    engine = OpenAIEngine(EngineOptions(engine="openai", base_url=server.url), model="teacher")
    responder = Responder(PACK, PACK.sampling.merged(seed=0), ["teacher"]).serving(engine, 0)
    [record] = responder([Record(instruction="Which is a fruit?\nA) carrot\nB) apple")])
    engine.close()
    assert seen == [record.system] and BY_NAME[record.system_message].text == record.system
    assert record.output.startswith("B) apple")
