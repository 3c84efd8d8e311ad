"""`score` with the scripted engine: exact records, schemas, and the parse-failure path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.engines.base import Generation
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import Record, Reject
from camelid.stages.score import Judge, judgement_schema, record_prompts
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


def shown_answers(prompt) -> list[str]:
    """The answers as the judge was shown them, in that order."""
    user = prompt[1]["content"]
    return [part.split("\n\n")[0].strip() for part in user.split("Answer ")[1:]]


def ultrafeedback_judge(prompt, sampling) -> str:
    """Rates "Red." 2 and "Blue." 3 on every aspect; honesty is N/A for "Blue."."""
    title = prompt[0]["content"].split("Aspect: ")[1].split()[0]
    aspect = ASPECT_BY_TITLE[title]
    labels = {"truthfulness": ["none"], "helpfulness": ["clarity and relevance"]}
    answers = []
    for text in shown_answers(prompt):
        text = text.split(":\n", 1)[1]
        item: dict = {"rationale": f"{aspect} {text}"}
        if aspect in labels:
            item["types"] = labels[aspect]
        blue = text == "Blue."
        item["rating"] = "N/A" if aspect == "honesty" and blue else 3 if blue else 2
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
    assert second.rationales["honesty"] == "honesty Blue."
    assert first.model_extra["types"] == {
        "truthfulness": ["none"],
        "helpfulness": ["clarity and relevance"],
    }
    assert out.lineage[-1].model_extra["shuffled"] is True


def test_completions_are_shown_in_a_seeded_shuffled_order_and_mapped_back() -> None:
    def by_position(prompt, sampling) -> str:  # a judge that only looks at positions
        count = len(shown_answers(prompt))
        return json.dumps({"answers": [{"rationale": "x", "types": [], "rating": 5 - 2 * i}
                                       for i in range(count)]})  # fmt: skip

    records = [{"instruction": f"Task {i}.", "completions": [{"text": t} for t in "ABC"]}
               for i in range(20)]  # fmt: skip
    engine = ScriptedEngine(by_position)
    scored = run_score(records, "ultrafeedback", engine, separately=False)
    first_place = 0
    helpfulness = [p for p, _ in engine.sent if "Aspect: helpfulness" in p[0]["content"]]
    for record, prompt in zip(scored, helpfulness, strict=True):
        assert f"{record.instruction}\n" in prompt[1]["content"]
        order = [text.split(":\n", 1)[1] for text in shown_answers(prompt)]
        for completion in record.completions:
            assert completion.scores["helpfulness"] == 5 - 2 * order.index(completion.text)
        first_place += order[0] == "A"
    assert 2 <= first_place <= 12  # "A" is not always shown first: the bias spreads
    again = run_score(records, "ultrafeedback", ScriptedEngine(by_position))
    assert [r.completions for r in again] == [r.completions for r in scored]  # seeded


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
    result = camelid("score", str(data), "--engine", "scripted", "--replies", str(replies),
                     "--audit", "0")  # fmt: skip
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


# ------------------------------------------------------------------ the audit


ANSWERS = {f"What is {i} plus {i}?": str(2 * i) for i in range(1, 13)}


def audit_run(judge_fn, count: int = 8, kinds: tuple[str, ...] = ("mismatched",)):
    from camelid.stages.score.audit import plan_audit

    pack = load_pack("humpback")
    records = [Record(instruction=q, output=a) for q, a in ANSWERS.items()]
    engine = ScriptedEngine(judge_fn)
    judge = Judge(pack, engine, pack.sampling.merged(seed=0),
                  controls=plan_audit(records, count, list(kinds), seed=0))  # fmt: skip
    out = judge(records)
    return judge, out, engine


def grader(prompt, sampling) -> str:
    """A judge that knows arithmetic: 5 for the right sum, 1 otherwise."""
    user = prompt[-1]["content"]
    question = user.split("Instruction:\n")[1].split("\n")[0]
    answer = user.split("Answer:\n")[1].split("\n")[0]
    return json.dumps({"rationale": "checked", "rating": 5 if ANSWERS[question] == answer else 1})


def test_audit_measures_a_judge_that_separates_and_never_writes_controls() -> None:
    judge, out, engine = audit_run(grader)
    assert len(out) == 12 and all(r.scores == {"quality": 5.0} for r in out)  # controls unseen
    assert len(engine.sent) == 12 + 8  # one control per audited record
    report = judge.audit.report()
    assert report["mismatched"] == {"judgements": 8, "auc": 1.0, "ties": 0.0}
    assert not any("barely" in line for line in judge.audit.summary())


def test_audit_says_so_when_a_judge_rates_everything_alike() -> None:
    judge, _, _ = audit_run(lambda p, s: json.dumps({"rationale": "fine", "rating": 1}),
                            kinds=("mismatched", "truncated", "shuffled"))  # fmt: skip
    report = judge.audit.report()
    assert report["mismatched"] == {"judgements": 8, "auc": 0.5, "ties": 1.0}
    assert set(report) >= {"mismatched", "truncated", "shuffled"}
    summary = judge.audit.summary()
    assert summary[0] == ("judge audit: real answers against mismatched ones, 8 judgements: "
                          "AUC 0.50, 100% tied")  # fmt: skip
    assert summary[1].startswith("  the judge barely tells real answers from mismatched ones")


def test_expected_rating_weighs_the_judges_probabilities() -> None:
    import math

    from camelid.engines.base import TokenChoice
    from camelid.stages.score.expected import expected_ratings

    def tokens(*pieces: str, top: dict[str, float] | None = None) -> list[TokenChoice]:
        return [TokenChoice(p, top if p.isdigit() and top else {p: 0.0}) for p in pieces]

    three_or_four = {"3": math.log(0.6), "4": math.log(0.3), "x": math.log(0.1)}
    reply = tokens(
        '{"', "rationale", '":"', "ok", '","', "rating", '":', "3", "}", top=three_or_four
    )
    [value] = expected_ratings(reply, [1, 2, 3, 4, 5])
    assert value == pytest.approx((3 * 0.6 + 4 * 0.3) / 0.9)  # "x" is no rating: left out
    ten = tokens('"', "rating", '":', "1", "0", "}", top={"1": math.log(0.5), "7": math.log(0.5)})
    assert expected_ratings(ten, list(range(1, 11))) == [pytest.approx(8.5)]  # 10 on its path
    assert expected_ratings(None, [1, 2]) == []


# ------------------------------------------------------------------ pairwise


def pairwise_run(judge_fn, completions: list[str], **kw):
    from camelid.stages.score.pairwise import PairwiseJudge

    pack = load_pack("pairwise")
    record = Record(instruction="What is 2 plus 2?", completions=[{"text": t} for t in completions])
    engine = ScriptedEngine(judge_fn)
    judge = PairwiseJudge(pack, engine, pack.sampling.merged(seed=0), **kw)
    return judge([record])[0], engine, judge


def vote(preferred: str) -> str:
    return json.dumps({"rationale": "compared", "preferred": preferred})


def test_pairwise_counts_a_preference_only_when_both_orders_agree() -> None:
    def knows(prompt, sampling) -> str:  # prefers the answer "4" wherever it is shown
        a = prompt[1]["content"].split("Answer A:\n")[1].split("\n")[0]
        b = prompt[1]["content"].split("Answer B:\n")[1].split("\n")[0]
        return vote("A" if a == "4" else "B" if b == "4" else "tie")

    out, engine, _ = pairwise_run(knows, ["5", "4", "22"])
    assert len(engine.sent) == 6  # 3 pairs, both orders
    assert [c.scores["pairwise"] for c in out.completions] == [0.25, 1.0, 0.25]
    first = out.model_extra["comparisons"][0]
    assert (first["pair"], first["winner"]) == ([0, 1], 1)
    assert [v["shown"] for v in first["votes"]] == [[0, 1], [1, 0]]

    out, _, _ = pairwise_run(lambda p, s: vote("A"), ["5", "4"])  # always the first shown
    assert [c.scores["pairwise"] for c in out.completions] == [0.5, 0.5]  # orders disagree: tie
    assert out.model_extra["comparisons"][0]["winner"] is None


def test_pairwise_audit_and_records_without_two_completions() -> None:
    from camelid.stages.score.audit import Control

    record_id = Record(instruction="What is 2 plus 2?",
                       completions=[{"text": "4"}, {"text": "four"}]).id  # fmt: skip
    _, engine, judge = pairwise_run(
        lambda p, s: vote("A"), ["4", "four"],
        controls={record_id: [Control("mismatched", ["Paris.", "Rome."])]},
    )  # fmt: skip
    assert len(engine.sent) == 4  # the pair, and the first answer against its control
    assert judge.audit.report()["mismatched"] == {"judgements": 1, "auc": 0.5, "ties": 1.0}
    from camelid.stages.score.pairwise import PairwiseJudge

    pack = load_pack("pairwise")
    lone = PairwiseJudge(pack, ScriptedEngine([]), pack.sampling)(
        [Record(instruction="x", output="y")]
    )
    assert lone[0].reason == "nothing to compare: pairwise needs two completions"


def test_truthfulness_is_judged_against_a_reference_when_the_record_has_one() -> None:
    pack = load_pack("ultrafeedback")
    record = Record.model_validate({"instruction": "When did the Berlin Wall fall?",
                                    "reference": "The Berlin Wall fell on 9 November 1989.",
                                    "completions": [{"text": "1989."}, {"text": "1991."}]})  # fmt: skip
    prompts = {p[0]["content"].split("Aspect: ")[1].split()[0]: p[1]["content"]
               for p in record_prompts(record, pack)}  # fmt: skip
    assert "World knowledge to check the answers against:\nThe Berlin Wall fell on 9 November " \
           "1989." in prompts["truthfulness"]  # fmt: skip
    assert all("World knowledge" not in text for aspect, text in prompts.items()
               if aspect != "truthfulness")  # fmt: skip
    bare = Record(instruction="When did the Berlin Wall fall?", completions=record.completions)
    assert all("World knowledge" not in p[1]["content"] for p in record_prompts(bare, pack))
