"""`evolve` (Evol-Instruct) with a scripted model: the seeded operation choice, every
elimination rule, rounds and parent ids, --keep-originals, --respond, resume, the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from camelid.engines.scripted import ScriptedEngine
from camelid.errors import Interrupted
from camelid.packs import load_pack
from camelid.records import Record, make_record
from camelid.runtime import Chain, Run, RunOptions
from camelid.stages.evolve.checks import (
    evolution_problem,
    leaked_words,
    only_stop_words,
    read_equal,
    same_as_parent,
    unanswerable,
)
from camelid.stages.evolve.operations import OPERATIONS, choose, pick_operations
from camelid.stages.evolve.run import Plan, build_stages, evolve_rounds, settings_entries
from camelid.stages.evolve.stage import evolve_round
from tests.conftest import camelid

# ---------------------------------------------------------------- the pure rules


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("#Rewritten Prompt#: list three rivers", "prompt leakage: says '#rewritten prompt#'"),
        ("Rewrite the given prompt so it is harder.", "prompt leakage: says 'given prompt'"),
        ("#The Given Prompt# asks for rivers.", "prompt leakage: says '#the given prompt#'"),
        ("Here is the REWRITTEN PROMPT: name rivers", "prompt leakage: says 'rewritten prompt'"),
        ("The created prompt is: name rivers", "prompt leakage: says 'created prompt'"),
        ("Rewritten instruction: name rivers", "prompt leakage: says 'rewritten instruction'"),
        ("What is it, and why?", "only punctuation and stop words"),
        ("  ...!?  ", "only punctuation and stop words"),
        ("", "only punctuation and stop words"),
        ("name THREE rivers!", "no information gain: the same words as its parent"),
    ],
)
def test_evolution_rules(text: str, reason: str) -> None:
    assert evolution_problem(text, "Name three rivers.") == reason


@pytest.mark.parametrize(
    "text",
    [
        "Name three rivers in Europe that flow into the Black Sea.",
        "Write a new prompt for an image generator that draws a river.",  # "new prompt" is fine
        "How long does a given task take on a 2-core machine?",  # "given task" is plain English
        "Use #hashtags# in a tweet about rivers.",
    ],
)
def test_evolutions_that_pass(text: str) -> None:
    assert evolution_problem(text, "Name three rivers.") is None
    assert leaked_words(text) is None and only_stop_words(text) is None
    assert same_as_parent(text, "Name three rivers.") is None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "unanswerable: the answer has 0 words (at least 3)"),
        ("Ok then.", "unanswerable: the answer has 2 words (at least 3)"),
        ("I'm sorry, but I cannot answer that.",
         "unanswerable: the answer says sorry in 7 words (under 80)"),
        ("Sorry! " + "word " * 70, "unanswerable: the answer says sorry in 71 words (under 80)"),
        ("The Danube, the Dnieper and the Don.", None),
        ("Sorry " + "word " * 80, None),  # long: the paper kept it
        ("The sorrow of rivers is long and deep.", None),  # "sorry" as a word only
    ],
)  # fmt: skip
def test_unanswerable(answer: str, reason: str | None) -> None:
    assert unanswerable(answer) == reason


@pytest.mark.parametrize(
    ("text", "verdict"),
    [('{"equal": "yes"}', True), ('{"equal": "no"}', False), ("Equal", True),
     ("Not Equal.", False), ("no", False), ('{"equal": "maybe"}', None), ("{", None),
     ('{"other": 1}', None)],
)  # fmt: skip
def test_read_equal(text: str, verdict: bool | None) -> None:
    assert read_equal(text) is verdict


def test_pick_operations() -> None:
    assert pick_operations(None) == OPERATIONS
    assert [o.name for o in pick_operations(["in-breadth", "deepen"])] == ["breadth", "deepen"]
    assert len(pick_operations(["in-depth"])) == 5
    with pytest.raises(Exception, match="--operation 'nope'"):
        pick_operations(["nope"])


# ---------------------------------------------------------------- a scripted model


def user_turn(prompt: object) -> str:
    return prompt if isinstance(prompt, str) else prompt[-1]["content"]  # type: ignore[index]


def model(prompt: object, sampling: object) -> str:
    """A cooperative model whose replies follow markers in the task: LEAK, STOP, SAME, EQUAL
    (the judge says equal), SORRY and SHORT (the answers)."""
    text = user_turn(prompt)
    if "Are the two tasks equal?" in text:
        second = text.split("Second task:\n", 1)[1]
        return '{"equal": "yes"}' if "EQUAL" in second else '{"equal": "no"}'
    if 'Reply in JSON with "instruction"' in text:
        task = text.split("Task:\n", 1)[1].split("\n\nReply in JSON", 1)[0]
        if "LEAK" in task:
            new = "#Rewritten Prompt#: " + task
        elif "STOP" in task:
            new = "And what is it?"
        elif "SAME" in task:
            new = task.upper()
        else:
            new = task + " Explain each step."
        return json.dumps({"instruction": new})
    if "SORRY" in text:
        return "I'm sorry, I cannot do that."
    if "SHORT" in text:
        return "Fine."
    return f"A careful answer to: {text}"


def plan(**kw: object) -> Plan:
    main, equal, answer = (load_pack(n) for n in ("evol-instruct", "evol-instruct-equal", "plain"))
    values: dict = dict(pack=main, sampling=main.sampling.merged(seed=0), equal_pack=equal,
                        equal_sampling=equal.sampling.merged(seed=0), answer_pack=answer,
                        answer_sampling=answer.sampling.merged(seed=0), operations=OPERATIONS,
                        rounds=1, batch_size=3)  # fmt: skip
    return Plan(**(values | kw))  # type: ignore[arg-type]


def seeds(*texts: str) -> list[Record]:
    return [make_record(instruction=t) for t in texts]


def write(path: Path, records: list[Record]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r.to_dict()) + b"\n" for r in records))
    return path


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_file(tmp_path: Path, the_plan: Plan, records: list[Record], engine: ScriptedEngine,
             name: str = "out", resume: bool = False) -> tuple[list[dict], list[dict]]:  # fmt: skip
    src = write(tmp_path / "in.jsonl", records)
    out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects.jsonl"
    options = RunOptions(output=str(out), rejects=str(rejects), quiet=True, resume=resume)
    with Run("evolve", options, resumable=True) as run:
        read = run.read_all([str(src)])
        run.check_settings(settings_entries(the_plan, engine.model))
        evolve_rounds(run, the_plan, build_stages(the_plan, engine), read)
    return rows(out), rows(rejects)


# ---------------------------------------------------------------- the stages and rounds


def test_operation_is_seeded_by_the_record_alone() -> None:
    ids = [make_record(instruction=f"Task number {i}.").id for i in range(300)]
    picked = [choose(OPERATIONS, 0, i).name for i in ids]
    assert picked == [choose(OPERATIONS, 0, i).name for i in ids]
    assert set(picked) == {op.name for op in OPERATIONS}  # all six drawn, about evenly
    assert max(Counter(picked).values()) < 80
    assert picked != [choose(OPERATIONS, 1, i).name for i in ids]  # another seed, other draws


def test_results_do_not_depend_on_the_batch() -> None:
    records = seeds(*(f"Describe river number {i} in detail." for i in range(7)))
    records.append(make_record(instruction="Translate this.", input="Guten Tag"))
    p = plan()

    def evolve_all(size: int) -> list[dict]:
        chain = Chain(build_stages(p, ScriptedEngine(model)))
        out = []
        for i in range(0, len(records), size):
            out += [o.to_dict() for o in chain(records[i : i + size])]
        return out

    whole, single = evolve_all(8), evolve_all(1)
    assert whole == single and len(whole) == 8
    for record in whole:
        entry = record["lineage"][-1]
        assert record["tags"] == ["evol-instruct", entry["kind"], entry["operation"]]
        assert entry["stage"] == "evolve" and entry["round"] == 1 and "output" not in record
        assert "evolved_from" not in record and record["source"] == "evolved"
    merged = whole[-1]  # the input is part of the task that was evolved
    assert merged["instruction"] == "Translate this.\n\nGuten Tag Explain each step."


def test_each_elimination_rule_with_its_reason(tmp_path: Path) -> None:
    records = seeds("Name LEAK rivers.", "Name STOP rivers.", "Name SAME rivers.",
                    "Name EQUAL rivers.", "Name SORRY rivers.", "Name SHORT rivers.",
                    "Name good rivers.")  # fmt: skip
    records.append(make_record(input="no instruction here"))
    kept, rejects = run_file(tmp_path, plan(), records, ScriptedEngine(model))
    assert [r["instruction"] for r in kept] == ["Name good rivers. Explain each step."]
    reasons = {r["record"].get("evolved_from", r["record"].get("instruction")): r["reason"]
               for r in rejects}  # fmt: skip
    assert reasons == {
        "Name LEAK rivers.": "prompt leakage: says '#rewritten prompt#'",
        "Name STOP rivers.": "only punctuation and stop words",
        "Name SAME rivers.": "no information gain: the same words as its parent",
        "Name EQUAL rivers.": "no information gain: judged equal to its parent",
        "Name SORRY rivers.": "unanswerable: the answer says sorry in 6 words (under 80)",
        "Name SHORT rivers.": "unanswerable: the answer has 1 words (at least 3)",
        None: "lacks instruction, which pack evol-instruct needs",
    }
    sorry = next(r for r in rejects if "SORRY" in r["record"].get("instruction", ""))
    assert sorry["record"]["answer"] == "I'm sorry, I cannot do that."
    assert sorry["record"]["parent"] == records[4].id  # the candidate, with its parent


def test_rounds_parent_ids_and_respond(tmp_path: Path) -> None:
    records = seeds("Name good rivers.", "Plan a trip.", "Name SORRY rivers.")
    kept, rejects = run_file(tmp_path, plan(rounds=3, respond=True), records,
                             ScriptedEngine(model))  # fmt: skip
    by_id = {r["id"]: r for r in kept}
    assert len(kept) == 6 and len(rejects) == 1  # two lines of three rounds
    originals = {r.id for r in records}
    for record in kept:
        evolves = [e for e in record["lineage"] if e["stage"] == "evolve"]
        number = evolves[-1]["round"]
        assert [e["round"] for e in evolves] == list(range(1, number + 1))
        assert evolves[-1]["parent"] == record["parent"]
        parent = record["parent"]
        if number == 1:
            assert parent in originals
        else:
            assert by_id[parent]["lineage"][-2]["round"] == number - 1
        assert record["output"] == f"A careful answer to: {record['instruction']}"
        assert record["lineage"][-1]["stage"] == "evolve.answer"
    assert sorted(Counter(evolve_round(Record.model_validate(r)) for r in kept).items()) == [
        (1, 2), (2, 2), (3, 2),
    ]  # fmt: skip


def test_equal_only_when_both_orders_say_so(tmp_path: Path) -> None:
    def first_named(prompt: object, sampling: object) -> str:
        text = user_turn(prompt)
        if "Are the two tasks equal?" in text:  # a judge that names the first option offered
            return json.dumps({"equal": text.rsplit('"equal": "', 1)[1].split('"', 1)[0]})
        return model(prompt, sampling)

    p = plan()
    stages = build_stages(p, ScriptedEngine(first_named))
    kept = Chain(stages)(seeds("Name good rivers.", "Name EQUAL rivers."))
    assert [r.instruction for r in kept] == [
        "Name good rivers. Explain each step.", "Name EQUAL rivers. Explain each step.",
    ]  # fmt: skip
    assert stages[1].split == 2
    engine = ScriptedEngine(model)
    Chain(build_stages(p, engine))(seeds("Name good rivers."))
    asked = [s.json_schema["properties"]["equal"]["enum"] for _, s in engine.sent[1:3]]
    assert asked == [["yes", "no"], ["no", "yes"]]  # each order named and decoded alike


def test_keep_originals_and_duplicates(tmp_path: Path) -> None:
    # the second seed is what the first evolves into: its evolution is a duplicate record
    records = seeds("Name good rivers.", "Name good rivers. Explain each step.")
    kept, rejects = run_file(tmp_path, plan(keep_originals=True), records, ScriptedEngine(model))
    assert [r["id"] for r in kept[:2]] == [r.id for r in records]  # the originals, unchanged
    assert kept[0] == records[0].to_dict()
    assert [r["reason"] for r in rejects] == ["duplicate: the same instruction as another record"]


def test_resume_ends_with_the_records_of_an_uninterrupted_run(tmp_path: Path) -> None:
    records = seeds(*(f"Describe river number {i}." for i in range(5)), "Name SORRY rivers.")
    p = plan(rounds=3, batch_size=2)
    whole, whole_rejects = run_file(tmp_path, p, records, ScriptedEngine(model), "whole")
    calls = 0

    def dying(prompt: object, sampling: object) -> str:
        nonlocal calls
        calls += 1
        if calls == 28:  # inside round 2 (round 1: 6 parents x 4 calls)
            raise Interrupted("interrupted")
        return model(prompt, sampling)

    with pytest.raises(Interrupted):
        run_file(tmp_path, p, records, ScriptedEngine(dying), "cut")
    partial = rows(tmp_path / "cut.jsonl")
    assert 0 < len(partial) < len(whole)
    resumed = ScriptedEngine(model)
    kept, rejects = run_file(tmp_path, p, records, resumed, "cut", resume=True)
    assert kept == whole and rejects == whole_rejects
    # round 1 had finished: no original is evolved again
    asked = {user_turn(prompt) for prompt, _ in resumed.sent}
    assert not any(f"Task:\n{r.instruction}\n\nReply" in turn for r in records for turn in asked)
    assert len(resumed.sent) == 4 * (len(whole) + len(whole_rejects)) - 24  # round 1 not redone
    # once finished, a resume asks nothing
    again = ScriptedEngine(model)
    assert run_file(tmp_path, p, records, again, "cut", resume=True)[0] == whole
    assert again.sent == []


# ---------------------------------------------------------------- the command


def test_cli_with_scripted_replies(tmp_path: Path) -> None:
    replies = tmp_path / "replies.jsonl"
    lines = ['{"instruction": "Name three rivers of Europe and their lengths."}',
             '{"equal": "no"}', '{"equal": "no"}', "The Danube, the Rhine and the Elbe."]  # fmt: skip
    replies.write_text("".join(json.dumps(line) + "\n" for line in lines))
    src = write(tmp_path / "in.jsonl", seeds("Name three rivers."))
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = camelid("evolve", str(src), "--engine", "scripted", "--replies", str(replies),
                     "--rounds", "2", "--respond", "-o", str(out), "--stats", str(stats))  # fmt: skip
    assert result.returncode == 0, result.stderr
    [record] = rows(out)
    assert record["instruction"] == "Name three rivers of Europe and their lengths."
    assert record["output"] == "The Danube, the Rhine and the Elbe."
    assert record["parent"] == seeds("Name three rivers.")[0].id
    report = json.loads(stats.read_text())
    assert report["rounds"]["1"] == {"parents": 1, "kept": 1, "dropped": {}}
    # round 2 writes the same text again (the replies cycle): no information gain
    assert report["rounds"]["2"]["dropped"] == {
        "no information gain: the same words as its parent": 1
    }
    bad = camelid("evolve", str(src), "--operation", "sideways", "--engine", "scripted",
                  "--replies", str(replies))  # fmt: skip
    assert bad.returncode == 2 and "--operation 'sideways'" in bad.stderr
