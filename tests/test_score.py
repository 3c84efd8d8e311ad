"""`score` with the scripted engine: exact records, schemas, and the parse-failure path."""

from __future__ import annotations

import json
from pathlib import Path

from camelid.engines.base import Generation
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import Record, Reject
from camelid.stages.score import Judge, judgement_schema
from tests.conftest import camelid


def run_score(records: list[dict], rubric: str, engine: ScriptedEngine, **kw) -> list:
    pack = load_pack(rubric)
    recs = [Record.model_validate(r) for r in records]
    return Judge(pack, engine, pack.sampling.merged(seed=0), **kw)(recs)


def test_humpback_schema_is_reasoning_then_bounded_rating() -> None:
    aspect = load_pack("humpback").manifest.rubric.aspects["quality"]
    assert judgement_schema(aspect, None) == {
        "type": "object",
        "properties": {
            "rationale": {"type": "string", "maxLength": 600},
            "rating": {"enum": [1, 2, 3, 4, 5]},
        },
        "required": ["rationale", "rating"],
        "additionalProperties": False,
    }


def test_humpback_scores_the_output() -> None:
    engine = ScriptedEngine(['{"rationale":"Direct and correct.","rating":4}'])
    [out] = run_score([{"instruction": "Add 2 and 2.", "output": "4"}], "humpback", engine)
    assert out.scores == {"quality": 4.0}
    assert out.rationales == {"quality": "Direct and correct."}
    assert out.lineage[-1].stage == "score" and out.lineage[-1].pack == "humpback"
    [(prompt, sampling)] = engine.sent
    assert prompt[1]["content"].startswith("Instruction:\nAdd 2 and 2.\n\nAnswer:\n4\n")
    assert sampling.json_schema["properties"]["rating"] == {"enum": [1, 2, 3, 4, 5]}
    assert sampling.temperature == 0.0


ASPECT_BY_TITLE = {"instruction": "instruction_following", "honesty": "honesty",
                   "truthfulness": "truthfulness", "helpfulness": "helpfulness"}  # fmt: skip


def ultrafeedback_judge(prompt, sampling) -> str:
    """Rates answer k as k+2 on every aspect; honesty is N/A for the second answer."""
    title = prompt[0]["content"].split("Aspect: ")[1].split()[0]
    aspect = ASPECT_BY_TITLE[title]
    labels = {"truthfulness": ["none"], "helpfulness": ["clarity and relevance"]}
    answers = []
    for k in range(sampling.json_schema["properties"]["answers"]["minItems"]):
        item: dict = {"rationale": f"{aspect} {k}"}
        if aspect in labels:
            item["types"] = labels[aspect]
        item["rating"] = "N/A" if aspect == "honesty" and k == 1 else k + 2
        answers.append(item)
    return json.dumps({"answers": answers})


def test_ultrafeedback_rates_completions_together() -> None:
    engine = ScriptedEngine(ultrafeedback_judge)
    record = {"instruction": "Name a colour.", "completions": [{"text": "Red."}, {"text": "Blue."}]}
    [out] = run_score([record], "ultrafeedback", engine)
    assert len(engine.sent) == 4  # one request per aspect, both answers in it
    first, second = out.completions
    assert first.scores == {
        "instruction_following": 2.0,
        "honesty": 2.0,
        "truthfulness": 2.0,
        "helpfulness": 2.0,
    }
    assert second.scores == {
        "instruction_following": 3.0,
        "honesty": None,
        "truthfulness": 3.0,
        "helpfulness": 3.0,
    }
    assert second.rationales["honesty"] == "honesty 1"
    assert first.model_extra["types"] == {
        "truthfulness": ["none"],
        "helpfulness": ["clarity and relevance"],
    }
    user = engine.sent[0][0][1]["content"]
    assert "Answer 1:\nRed.\n\nAnswer 2:\nBlue." in user


def test_separately_sends_one_request_per_completion_and_aspect() -> None:
    engine = ScriptedEngine(lambda p, s: '{"rationale":"ok","rating":5}' if "types" not in s.json_schema["properties"]
                            else '{"rationale":"ok","types":[],"rating":5}')  # fmt: skip
    record = {"instruction": "Hi", "completions": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}
    [out] = run_score([record], "ultrafeedback", engine, separately=True)
    assert len(engine.sent) == 12
    assert all(c.scores["helpfulness"] == 5.0 for c in out.completions)


def test_unparsable_judgement_leaves_null_and_keeps_raw() -> None:
    engine = ScriptedEngine([Generation('{"rationale":"The answer is', "length")])
    [out] = run_score([{"instruction": "Hi", "output": "Hello"}], "humpback", engine)
    assert out.scores == {"quality": None}
    assert out.model_extra["judge_errors"] == {
        "quality": {
            "error": "judgement cut off at max_tokens",
            "raw": '{"rationale":"The answer is',
        }
    }


def test_record_without_answer_is_rejected() -> None:
    [out] = run_score([{"instruction": "Hi"}], "humpback", ScriptedEngine([]))
    assert isinstance(out, Reject) and out.reason == "nothing to score: no output or completions"


def test_cli_counts_parse_failures_on_stderr(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    data.write_text('{"instruction":"a","output":"x"}\n{"instruction":"b","output":"y"}\n')
    replies = tmp_path / "r.jsonl"
    replies.write_text('"{\\"rationale\\":\\"fine\\",\\"rating\\":5}"\n"not json"\n')
    result = camelid("score", str(data), "--engine", "scripted", "--replies", str(replies))
    assert result.returncode == 0, result.stderr
    scores = [json.loads(line)["scores"] for line in result.stdout.splitlines()]
    assert scores == [{"quality": 5.0}, {"quality": None}]
    assert (
        "score: 1 judgements did not parse; their scores are null (see judge_errors)"
        in result.stderr
    )


def test_cli_refuses_a_pack_without_rubric(tmp_path: Path) -> None:
    result = camelid("score", "--rubric", "plain", input="")
    assert (result.returncode, result.stderr) == (
        2, "camelid: error: --rubric plain: pack plain has no rubric (it is not a judge)\n",
    )  # fmt: skip


def test_packs_render_shows_each_judge_request() -> None:
    record = '{"instruction":"Add 2 and 2.","completions":[{"text":"4"},{"text":"5"}]}\n'
    result = camelid("packs", "render", "ultrafeedback", "--json", input=record)
    prompts = [json.loads(line)["messages"] for line in result.stdout.splitlines()]
    assert [p[0]["content"].split("Aspect: ")[1].split(".")[0] for p in prompts] == [
        "instruction following", "honesty and uncertainty",
        "truthfulness and hallucination", "helpfulness and informativeness",
    ]  # fmt: skip
    assert prompts[0][1]["content"].startswith(
        "Instruction:\nAdd 2 and 2.\n\nAnswer 1:\n4\n\nAnswer 2:\n5\n"
    )
