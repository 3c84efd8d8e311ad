"""`respond` with pools of models, principle prompts and structured (thinking) packs: stage
functions with the scripted engine, and the CLI with `--engine scripted`."""

from __future__ import annotations

import collections
import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from camelid.engines.base import record_seed
from camelid.engines.scripted import ScriptedEngine
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.records import Completion, Record, Reject
from camelid.stages.respond import principles as principle_prompts
from camelid.stages.respond.pool import PoolModel, parse_model, parse_pool
from camelid.stages.respond.stage import (
    Responder,
    answer_with_pool,
    shares,
    to_completion,
    uses_system,
)
from tests.conftest import camelid


def test_shares_spread_completions_first_models_first() -> None:
    assert shares(4, 2) == [2, 2]
    assert shares(5, 2) == [3, 2]
    assert shares(3, 3) == [1, 1, 1]
    assert shares(1, 1) == [1]


@pytest.mark.parametrize(
    ("spec", "model"),
    [
        ("smollm2-135m-instruct", PoolModel("smollm2-135m-instruct", "smollm2-135m-instruct")),
        ("twin=smollm2-135m-instruct", PoolModel("twin", "smollm2-135m-instruct")),
        ("runs/lr=3e-4", PoolModel("runs/lr=3e-4", "runs/lr=3e-4")),  # a path, not a name
        ("b=./models/x=y", PoolModel("b", "./models/x=y")),
    ],
)
def test_parse_model(spec: str, model: PoolModel) -> None:
    assert parse_model(spec) == model


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["a="], "--model a=: no model after 'a='"),
        (["m", "m"], "--model: 'm' is given twice; name each one, e.g. --model m --model other=m"),
    ],
)  # fmt: skip
def test_parse_pool_refusals(specs: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_pool(specs)
    assert str(err.value) == message


def test_a_pool_larger_than_n_draws_n_distinct_models_per_record() -> None:
    """UltraFeedback drew 4 of its 17 models for each prompt: each record its own draw."""
    names = [f"m{i}" for i in range(6)]
    engines = {name: ScriptedEngine([name], model=name, cycle=True) for name in names}

    @contextmanager
    def open_model(index: int):
        yield engines[names[index]]

    pack = load_pack("plain")
    responder = Responder(pack, pack.sampling.merged(n=2, seed=9), names)
    records = [Record(instruction=f"Task {i}.") for i in range(30)]
    out = answer_with_pool(records, responder, open_model, batch_size=8)
    drawn = [[c.model for c in r.completions] for r in out]
    assert all(len(set(models)) == 2 for models in drawn)  # two distinct models each
    assert all(c.text == c.model for r in out for c in r.completions)  # each its own answer
    assert len({tuple(models) for models in drawn}) > 5  # the draws differ by record
    again = answer_with_pool(records, responder, open_model, batch_size=3)
    assert [[c.model for c in r.completions] for r in again] == drawn  # seeded by record


def test_structured_reply_becomes_answer_rationales_and_fields() -> None:
    value = {"thoughts": " Think. ", "principles": ["candor"], "answer": " Hello there. "}
    made = to_completion(value, "m", "stop")
    assert isinstance(made, Completion)
    assert made.model_dump(exclude_none=True) == {
        "text": "Hello there.", "model": "m", "finish_reason": "stop",
        "rationales": {"thoughts": "Think."}, "principles": ["candor"],
    }  # fmt: skip
    assert to_completion({"thoughts": "x"}, "m", "stop") == "reply has no answer"
    assert to_completion({"answer": "  "}, "m", "stop") == "empty answer"
    assert to_completion(["a"], "m", "stop") == (
        "reply is not an answer (the pack's parser gives a list)"
    )
    # A reply's key that names a completion field cannot overwrite it.
    assert to_completion({"answer": "Hi.", "model": "fake"}, "m", "stop").model == "m"


def test_uses_system() -> None:
    assert uses_system(load_pack("plain")) and uses_system(load_pack("verbose"))
    assert not uses_system(load_pack("self-align"))  # its system prompt is the principles


def pool_run(records: list[dict], n: int, principles: bool = False):
    engines = {"a": ScriptedEngine(["a1", "a2", "a3"], model="src", cycle=True),
               "b": ScriptedEngine(["b1"], model="src", cycle=True)}  # fmt: skip
    opened: list[str] = []

    @contextmanager
    def open_model(index: int):
        name = ["a", "b"][index]
        opened.append(name)
        yield engines[name]

    pack = load_pack("plain")
    responder = Responder(pack, pack.sampling.merged(n=n, seed=5), ["a", "b"], principles)
    recs = [Record.model_validate(r) for r in records]
    out = answer_with_pool(recs, responder, open_model, batch_size=2)
    return out, engines, opened


def test_pool_spreads_completions_loads_each_model_once_keeps_order() -> None:
    records = [{"instruction": "one"}, {"input": "no instruction"}, {"instruction": "three"}]
    out, engines, opened = pool_run(records, n=3)
    assert opened == ["a", "b"]
    first, missing, third = out
    assert [(c.text, c.model) for c in first.completions] == [("a1", "a"), ("a2", "a"), ("b1", "b")]
    assert [(c.text, c.model) for c in third.completions] == [("a3", "a"), ("a1", "a"), ("b1", "b")]
    assert isinstance(missing, Reject)
    assert missing.reason == "lacks instruction, which pack plain needs"
    # Model a writes 2 per request, b 1; two records each, in batches of 2.
    assert [s.n for _, s in engines["a"].sent] == [2, 2]
    assert [s.n for _, s in engines["b"].sent] == [1, 1]
    # Twins under different names get different seeds, so a model twice is not one model twice.
    ids = [first.id, third.id]
    assert engines["a"].seeds == [record_seed(5, f"{i}:a") for i in ids]
    assert engines["b"].seeds == [record_seed(5, f"{i}:b") for i in ids]
    entry = first.lineage[-1]
    assert (entry.model, entry.models, entry.sampling["n"]) == (None, ["a", "b"], 3)


def test_principle_prompts_one_request_per_completion_recorded_and_reproducible() -> None:
    out, engines, _ = pool_run(
        [{"instruction": "one", "system": "Be brief."}], n=4, principles=True
    )
    [record] = out
    drawn = [principle_prompts.choose(5, record.id, slot) for slot in range(4)]
    assert [c.principle for c in record.completions] == [p for p, _ in drawn]
    sent = [prompt for prompt, _ in engines["a"].sent + engines["b"].sent]
    assert [s.n for _, s in engines["a"].sent + engines["b"].sent] == [1, 1, 1, 1]
    # The record's own system prompt comes first, then the principle's.
    assert [p[0]["content"] for p in sent] == [f"Be brief.\n\n{text}" for _, text in drawn]
    assert record.lineage[-1].principle_prompts is True
    again, _, _ = pool_run([{"instruction": "one", "system": "Be brief."}], n=4, principles=True)
    assert again[0].completions == record.completions


def test_one_answer_with_a_principle_prompt_records_it_on_the_record() -> None:
    pack = load_pack("plain")
    engine = ScriptedEngine(["Blue is a calm colour."])
    responder = Responder(pack, pack.sampling.merged(seed=3), ["solo"], principle_prompts=True)
    [record] = responder.serving(engine, 0)([Record(instruction="Name a colour.")])
    principle, text = principle_prompts.choose(3, record.id, 0)
    assert (record.output, record.principle, record.completions) == (
        "Blue is a calm colour.", principle, None,
    )  # fmt: skip
    assert engine.sent[0][0][0] == {"role": "system", "content": text}
    assert engine.seeds == [record_seed(3, f"{record.id}:solo:0")]
    assert record.lineage[-1].model == "solo"


def test_principle_proportions_follow_ultrafeedback() -> None:
    counts = collections.Counter(
        principle_prompts.choose(0, f"record-{i}", slot)[0] for i in range(4000) for slot in (0, 1)
    )
    share = {name: count / 8000 for name, count in counts.items()}
    assert 0.57 < share["helpfulness"] < 0.63
    assert 0.17 < share["truthfulness"] < 0.23
    assert 0.15 < share["honesty"] < 0.21
    assert 0.01 < share["verbalized_calibration"] < 0.03
    prompts = principle_prompts.prompts()
    assert sorted(prompts) == ["helpfulness", "honesty", "truthfulness", "verbalized_calibration"]
    assert "Confidence:" in prompts["verbalized_calibration"][0]


def write_replies(path: Path, replies: list[object]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in replies))
    return str(path)


def think(answer: str, principles: list[str] | None = None) -> str:
    reply = {"thoughts": "The user wants help.", "principles": principles or ["helpful"]}
    return json.dumps(reply | {"answer": answer})


def test_cli_self_align_writes_clean_output_thoughts_and_principles(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(
        '{"instruction": "Give three tips for staying healthy."}\n'
        '{"instruction": "Name a colour."}\n'
        '{"instruction": "Describe the sea."}\n'
        '{"instruction": "Describe the moon."}\n'
        '{"instruction": "Describe a cat."}\n'
    )
    replies = write_replies(tmp_path / "r.jsonl", [
        think("Sleep well, drink water and walk every day.", ["3", "candor", "helpful"]),
        think("Blue."),
        think("The user wants a description of the sea."),
        "nope",
        think("I'm happy to explain what tends to move the price, or how to read a chart."),
    ])  # fmt: skip
    rejects = tmp_path / "rejects.jsonl"
    result = camelid("respond", str(records), "--pack", "self-align", "--engine", "scripted",
                     "--replies", replies, "--rejects", str(rejects))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "respond: read 5, wrote 1, rejected 4" in result.stderr
    [out] = [json.loads(line) for line in result.stdout.splitlines()]
    assert out["output"] == "Sleep well, drink water and walk every day."
    assert out["rationales"] == {"thoughts": "The user wants help."}
    assert out["principles"] == ["helpful", "candor"]
    assert out["lineage"][-1]["pack"] == "self-align" and "completions" not in out
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    assert reasons == [
        "answer too short: 1 word (--min-answer-words 5)",
        "answer contains the thought format ('The user wants')",
        "reply is not valid JSON: invalid literal, expected 'null'",
        "answer copies the pack's exemplars: \"i'm happy to explain what tends to move\"",
    ]
    # Thresholds are options, and the filter can be turned off.
    loose = camelid("respond", str(records), "--pack", "self-align", "--engine", "scripted",
                    "--replies", replies, "--no-answer-filter", "-q")  # fmt: skip
    assert [json.loads(line)["output"][:4] for line in loose.stdout.splitlines()] == [
        "Slee", "Blue", "The ", "I'm ",
    ]  # fmt: skip
    short = camelid("respond", str(records), "--pack", "self-align", "--engine", "scripted",
                    "--replies", replies, "--min-answer-words", "1", "-q")  # fmt: skip
    assert [json.loads(line)["output"] for line in short.stdout.splitlines()][1] == "Blue."


def test_cli_pool_records_each_model_and_principle(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text('{"instruction": "Name a colour."}\n{"instruction": "Name a fruit."}\n')
    replies = write_replies(tmp_path / "r.jsonl", ["Blue is a colour.", "Red is one too."])
    args = ["respond", str(records), "--engine", "scripted", "--replies", replies, "--n", "4",
            "--model", "m", "--model", "twin=m", "--principle-prompts", "--seed", "2"]  # fmt: skip
    result = camelid(*args)
    assert result.returncode == 0, result.stderr
    assert "respond: model 1 of 2: m\nrespond: model 2 of 2: twin\n" in result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    for record in out:
        assert [c["model"] for c in record["completions"]] == ["m", "m", "twin", "twin"]
        drawn = [principle_prompts.choose(2, record["id"], s)[0] for s in range(4)]
        assert [c["principle"] for c in record["completions"]] == drawn
    assert camelid(*args).stdout == result.stdout  # same seed, same records
    # One named model: answers (and lineage) under its name.
    named = camelid("respond", str(records), "--engine", "scripted", "--replies", replies,
                    "--model", "mine=m", "-q")  # fmt: skip
    first = json.loads(named.stdout.splitlines()[0])
    assert (first["output"], first["lineage"][-1]["model"]) == ("Blue is a colour.", "mine")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--pack", "self-align", "--principle-prompts"],
         "--principle-prompts: pack self-align does not show the model a system prompt, so the "
         "principles would have no effect (use plain or verbose)"),
        (["--n", "2", "--model", "m", "--model", "m"],
         "--model: 'm' is given twice; name each one, e.g. --model m --model other=m"),
        (["--n", "2", "--model", "smollm2-135m-instruct", "--model", "b=./no/such/dir",
          "--engine", "vllm"],
         "model directory './no/such/dir' does not exist (or is not a directory)"),
    ],
)  # fmt: skip
def test_cli_refuses_before_loading_any_model(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text('{"instruction": "hi"}\n')
    replies = write_replies(tmp_path / "r.jsonl", ["x"])
    engine = [] if "vllm" in extra else ["--engine", "scripted", "--replies", replies]
    result = camelid("respond", str(records), *engine, *extra)
    assert (result.returncode, result.stderr) == (2, f"camelid: error: {message}\n")
