"""Reward models without the default model: pairs as RewardTrainer rows, and `score
--reward-model` on a tiny randomly initialised sequence classifier (real transformers, a word
tokenizer with a chat template) saved to a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from camelid.errors import BadInputError, UsageError
from camelid.packs import load_pack
from camelid.records import Record, Reject
from camelid.stages.pairs import best_of
from camelid.stages.score.reward import (
    RewardScorer,
    check_reward_model,
    load_reward_model,
    with_rewards,
)
from camelid.stages.train.data import Prompting, reward_conversation, training_rows
from tests.conftest import camelid
from tests.test_train_data import train_cli

PLAIN = load_pack("plain")
WORDS = ("what colour is the sky ? it is blue green red a long answer that goes on and on "
         "name fruit apple pear system user assistant")  # fmt: skip
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONTEXT = 64  # the tiny model's context, in tokens


def tiny_model(folder: Path, seed: int = 0) -> Path:
    """A one-layer Llama sequence classifier (one output) and its tokenizer, saved."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    vocab = {w: i for i, w in enumerate([*specials, *dict.fromkeys(WORDS.split())])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        eos_token="<|im_end|>", pad_token="<|im_end|>",
                                        additional_special_tokens=specials[1:])  # fmt: skip
    tokenizer.chat_template = TEMPLATE
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=CONTEXT, num_labels=1,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)  # fmt: skip
    torch.manual_seed(seed)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("tiny") / "rm")


def pair(**extra: Any) -> Record:
    fields = {"instruction": "what colour is the sky ?", "chosen": "it is blue",
              "rejected": "apple pear"} | extra  # fmt: skip
    return Record.model_validate(fields)


def test_reward_rows_are_preference_rows_with_the_pack_prompt() -> None:
    [row] = training_rows([pair()], "reward", Prompting(PLAIN))
    assert row == {
        "prompt": PLAIN.render(pair()),
        "chosen": [{"role": "assistant", "content": "it is blue"}],
        "rejected": [{"role": "assistant", "content": "apple pear"}],
    }
    # What the scorer builds for an answer is what RewardTrainer joins: prompt + answer.
    assert reward_conversation(row["prompt"], "it is blue") == row["prompt"] + row["chosen"]
    with pytest.raises(BadInputError, match="--task reward"):
        training_rows([pair(rejected="it is blue")], "reward", Prompting(PLAIN))
    with pytest.raises(BadInputError, match="record has no rejected, which --task reward needs"):
        training_rows([pair(rejected=None)], "reward", Prompting(PLAIN))


def test_scoring_tokenizes_as_reward_trainer_does(tiny: Path) -> None:
    from transformers import AutoTokenizer
    from trl.data_utils import _tokenize

    loaded = load_reward_model(str(tiny))
    [row] = training_rows([pair()], "reward", loaded.prompting)
    trained = _tokenize(AutoTokenizer.from_pretrained(tiny), row["prompt"] + row["chosen"])
    assert loaded._ids(reward_conversation(row["prompt"], "it is blue")) == trained["input_ids"]


def test_score_stage_writes_a_reward_per_answer(tiny: Path) -> None:
    stage = RewardScorer(load_reward_model(str(tiny)), str(tiny))
    one = Record.model_validate({"instruction": "name fruit", "output": "apple"})
    many = Record.model_validate({
        "instruction": "what colour is the sky ?",
        "completions": [{"text": "it is blue", "scores": {"quality": 3.0}},
                        {"text": "green"}, {"text": "it is red"}],
    })  # fmt: skip
    long = Record.model_validate({"instruction": "name fruit", "output": "on " * CONTEXT})
    bare = Record.model_validate({"instruction": "name fruit"})
    unprompted = Record.model_validate({"output": "apple"})
    out = stage([one, many, long, bare, unprompted])
    assert [type(o) for o in out] == [Record, Record, Record, Reject, Reject]
    assert isinstance(out[0].scores["reward"], float)
    rewards = [c.scores["reward"] for c in out[1].completions]
    assert all(isinstance(r, float) for r in rewards) and len(set(rewards)) == 3
    assert out[1].completions[0].scores["quality"] == 3.0  # other scores kept beside it
    assert out[2].scores == {"reward": None}  # longer than the context: null, not made up
    assert out[3].reason == "nothing to score: no output or completions"
    assert out[4].reason.startswith("nothing to score against")
    entry = out[0].lineage[-1]
    assert entry.model_dump(exclude_none=True) == {
        "stage": "score", "model": str(tiny.resolve()), "scoring": "reward"
    }  # fmt: skip
    assert entry.sampling is None and entry.seed is None
    # A batch's padding changes nothing: each record alone scores the same.
    alone = [stage([r])[0] for r in (one, many)]
    assert alone[0].scores["reward"] == pytest.approx(out[0].scores["reward"], abs=1e-4)
    assert [c.scores["reward"] for c in alone[1].completions] == pytest.approx(rewards, abs=1e-4)
    report = stage.report()
    assert report["too_long"] == 1 and report["scored"] == 2 * (1 + 3)
    assert report["best_mean"] == pytest.approx(max(rewards), abs=1e-3)


def test_filter_best_of_picks_the_completion_with_the_highest_reward() -> None:
    record = Record.model_validate({"instruction": "q", "completions": [
        {"text": "a"}, {"text": "b"}, {"text": "c"}]})  # fmt: skip
    scored = with_rewards(record, [0.1, 0.7, -2.0]).to_dict()
    for aspect in (None, "reward"):
        picked = dict(scored)
        assert best_of(picked, aspect) is None
        assert (picked["output"], picked["scores"]) == ("b", {"reward": 0.7})


def test_reward_model_checks(tmp_path: Path) -> None:
    sft = tmp_path / "sft"
    sft.mkdir()
    (sft / "camelid-train.json").write_text(json.dumps({"task": "sft", "complete": True}))
    with pytest.raises(UsageError, match="was trained with --task sft"):
        check_reward_model(str(sft))
    (sft / "camelid-train.json").write_text(json.dumps({"task": "reward", "complete": False}))
    with pytest.raises(UsageError, match="its training did not finish"):
        check_reward_model(str(sft))
    with pytest.raises(UsageError, match="is a built-in language model"):
        check_reward_model("smollm2-135m-instruct")
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(UsageError, match="is a LlamaForCausalLM, not a sequence classifier"):
        check_reward_model(str(lm))


def test_score_cli_with_a_reward_model(tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    rows = [{"instruction": "name fruit", "completions": [{"text": "apple"}, {"text": "pear"}]},
            {"instruction": "name fruit"}]  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out, rejects, stats = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "s.json"
    args = ["score", str(data), "--reward-model", str(tiny), "-o", str(out)]
    result = camelid(*args, "--rejects", str(rejects), "--stats", str(stats))
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(c["scores"]["reward"], float) for c in record["completions"])
    assert json.loads(rejects.read_text())["reason"].startswith("nothing to score")
    report = json.loads(stats.read_text())
    assert (report["written"], report["rejected"], report["reward"]["scored"]) == (1, 1, 2)
    assert "best of each record's completions" in result.stderr
    again = camelid(*args, "--resume")  # everything done: nothing loads, nothing is redone
    assert again.returncode == 0 and "loading reward model" not in again.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == [record]
    clash = camelid(*args, "--rubric", "humpback")
    assert clash.returncode == 2
    assert "--reward-model and --rubric exclude each other" in clash.stderr


def test_train_reward_on_a_tiny_model_then_score_with_it(tiny: Path, tmp_path: Path) -> None:
    """The whole path on the tiny model: RewardTrainer with LoRA (the score head saved whole),
    --merge, and both the adapter and the merged model loaded for scoring, to the same rewards."""
    data = tmp_path / "pairs.jsonl"
    pairs = [pair().to_dict(), pair(instruction="name fruit", chosen="apple pear",
                                    rejected="it is blue").to_dict()]  # fmt: skip
    data.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    out = tmp_path / "rm"
    result = train_cli("--task", "reward", str(data), "--model", str(tiny), "-o", str(out),
                       "--merge", "--max-steps", "2", "--batch-size", "2", "--grad-accum", "1",
                       "--lr", "0.01", "--max-length", "64")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "train: --task reward, LoRA r=16, 2 rows, 2 steps" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassification"]
    assert len(config["id2label"]) == 1  # num_labels 1: one output, the reward
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["task_type"] == "SEQ_CLS" and "score" in adapter["modules_to_save"]
    records = [Record.model_validate({"instruction": p["instruction"], "completions": [
        {"text": p["chosen"]}, {"text": p["rejected"]}]}) for p in pairs]  # fmt: skip
    merged = RewardScorer(load_reward_model(str(out)), str(out))(records)
    applied = RewardScorer(load_reward_model(str(out / "adapter")), str(out))(records)
    before = RewardScorer(load_reward_model(str(tiny)), str(tiny))(records)

    def rewards(made: list[Any]) -> list[float]:
        return [c.scores["reward"] for r in made for c in r.completions]

    assert rewards(merged) == pytest.approx(rewards(applied), abs=1e-4)
    assert rewards(merged) != pytest.approx(rewards(before), abs=1e-4)  # the head learned


def test_a_reward_model_is_refused_where_a_model_must_write(tmp_path: Path) -> None:
    model = tmp_path / "rm"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "camelid-train.json").write_text(json.dumps({"task": "reward", "model": "x"}))
    result = camelid("respond", "--model", str(model), input='{"instruction": "Hi"}\n')
    assert result.returncode == 2, result.stderr
    assert f"model directory '{model}' is a reward model" in result.stderr
    assert "camelid score --reward-model" in result.stderr


def test_a_reward_model_does_not_take_the_ray_executor(tmp_path: Path) -> None:
    result = camelid("score", "--reward-model", str(tmp_path), "--executor", "ray",
                     input='{"instruction": "Hi", "output": "Hello"}\n')  # fmt: skip
    assert result.returncode == 2
    assert "--reward-model scores in this process (transformers)" in result.stderr
