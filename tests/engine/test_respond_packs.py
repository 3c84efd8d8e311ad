"""`respond` packs and pools on the real default model: self-align on real seed instructions,
its answer filter on crafted answers, a pool of two model ids, and verbose cloning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from camelid.packs import load_pack
from camelid.records import Completion, Record
from camelid.stages.respond.principles import prompts
from camelid.stages.respond.self_align import PRINCIPLES, AnswerRules, exemplar_text, review
from camelid.stages.respond.stage import Responder
from tests.conftest import SEED_TASKS, camelid

pytestmark = pytest.mark.engine

RECORDS = 16
# Every way a self-align record may be refused; anything else is a bug.
REASONS = re.compile(
    r"^(answer cut off at --max-tokens \d+|answer too short: .*|answer repeats .*|"
    r"answer only repeats the input|answer contains the thought format .*|"
    r"answer copies the pack's exemplars: .*|prompt is \d+ tokens; .*|reply is not valid JSON.*)"
    r"(; .*)?$"
)


def seeds(tmp: Path, limit: int) -> Path:
    path = tmp / "seeds.jsonl"
    made = camelid("seed", str(SEED_TASKS), "--limit", str(limit), "-o", str(path), "-q")
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture(scope="module")
def self_aligned(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], list[dict]]:
    """Self-align answers to the first real Self-Instruct seed tasks, and the rejects."""
    tmp = tmp_path_factory.mktemp("self-align")
    rejects = tmp / "rejects.jsonl"
    # The pack samples at Self-Align's 0.5/0.95, where the 135M model loops until max_tokens;
    # like examples/dromedary.sh, run it at 0.9/0.9.
    result = camelid("respond", str(seeds(tmp, RECORDS)), "--pack", "self-align",
                     "--max-model-len", "2048", "--max-tokens", "400", "--temperature", "0.9",
                     "--top-p", "0.9", "--seed", "0", "--rejects", str(rejects))  # fmt: skip
    assert result.returncode == 0, result.stderr
    kept = [json.loads(line) for line in result.stdout.splitlines()]
    refused = [json.loads(line) for line in rejects.read_text().splitlines()]
    return kept, refused


def test_self_align_yields_clean_answers_and_captured_thoughts(self_aligned) -> None:
    kept, refused = self_aligned
    assert len(kept) + len(refused) == RECORDS
    # Measured 13 of 16 here (12 at --seed 1); a 135M model may break the format or loop, and
    # those records must be refused with a reason, never written half-parsed.
    assert len(kept) >= RECORDS // 2, [r["reason"] for r in refused]
    for record in kept:
        answer = record["output"]
        assert answer.strip() and not answer.lstrip().startswith("{")
        assert '"thoughts"' not in answer and '"principles"' not in answer
        assert record["rationales"]["thoughts"].strip()
        assert record["principles"] and set(record["principles"]) <= set(PRINCIPLES)
        assert record["principles"] == [p for p in PRINCIPLES if p in record["principles"]]
        assert record["lineage"][-1]["pack"] == "self-align"
        assert "completions" not in record
    for reject in refused:
        assert REASONS.match(reject["reason"]), reject["reason"]


def test_filter_rejects_crafted_answers_with_the_right_reasons(self_aligned) -> None:
    kept, _ = self_aligned
    record = Record.model_validate(next(r for r in kept if len(r["instruction"].split()) >= 4))
    answer = record.output or ""
    pack = load_pack("self-align")
    check = review(exemplar_text(pack), AnswerRules())
    replies = [m["content"] for m in pack.render(record) if m["role"] == "assistant"]
    exemplar = max((json.loads(reply)["answer"] for reply in replies), key=len)  # the seasons one

    def verdict(text: str) -> Completion | str:
        return check(record, Completion(text=text, model="m"))

    assert isinstance(verdict(answer), Completion)  # the model's own answer passed
    assert verdict("Sure thing.") == "answer too short: 2 words (--min-answer-words 5)"
    assert verdict(f'{answer}\n"thoughts": more') == (
        "answer contains the thought format ('\"thoughts\":')"
    )
    assert verdict(f"{record.instruction} {answer}") == "answer repeats the instruction verbatim"
    assert verdict("This says one thing. " * 4) == (
        "answer repeats itself: 3 of 4 sentences are repeats (--max-repeat-share 0.3)"
    )
    assert verdict(f"{answer}\n\n{exemplar}").startswith("answer copies the pack's exemplars: ")


def test_pool_of_two_model_ids_records_models_and_principles(tmp_path: Path) -> None:
    args = ["respond", str(seeds(tmp_path, 3)), "--n", "4", "--principle-prompts", "--seed", "1",
            "--model", "smollm2-135m-instruct", "--model", "twin=smollm2-135m-instruct",
            "--max-tokens", "48", "--keep-truncated", "--max-model-len", "1024"]  # fmt: skip
    result = camelid(*args)
    assert result.returncode == 0, result.stderr
    assert "respond: model 1 of 2: smollm2-135m-instruct" in result.stderr
    assert "respond: model 2 of 2: twin" in result.stderr
    assert "respond: read 3, wrote 3, rejected 0" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record in records:
        completions = record["completions"]
        assert [c["model"] for c in completions] == ["smollm2-135m-instruct"] * 2 + ["twin"] * 2
        assert all(c["text"].strip() for c in completions)
        assert {c["principle"] for c in completions} <= set(prompts())
        entry = record["lineage"][-1]
        assert entry["models"] == ["smollm2-135m-instruct", "twin"] and "model" not in entry
    # The twin is seeded apart from the first model: its answers are its own.
    texts = [c["text"] for r in records for c in r["completions"]]
    assert len(set(texts)) > len(texts) // 2


def test_verbose_pack_answers_at_greater_length_than_plain(vllm_engine) -> None:
    rows = [json.loads(line) for line in SEED_TASKS.read_text().splitlines()]
    asks = [r for r in rows if not r["instances"][0]["input"]][:16]
    records = [Record(instruction=r["instruction"]) for r in asks]
    lengths = {}
    for name in ("plain", "verbose"):
        pack = load_pack(name)
        # The same sampling for both, so only the prompt differs. Measured here: 1814 words
        # plain, 2621 verbose (2141 and 2445 at seed 1); 8 records were too few to be sure.
        sampling = pack.sampling.merged(temperature=0.7, top_p=0.9, max_tokens=300, seed=0)
        responder = Responder(pack, sampling, ["m"], keep_truncated=True)
        batch = responder.serving(vllm_engine, 0)(records)
        lengths[name] = sum(len(r.output.split()) for r in batch)
    assert lengths["verbose"] > lengths["plain"], lengths
