"""Magpie without a model: pre-query text from real chat templates, the rule filters, and
seeded, batch-independent runs on the scripted engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from camelid.errors import UsageError
from camelid.models import resolve_model
from camelid.records import make_record
from camelid.stages.magpie.filters import (
    Rules,
    answer_reason,
    ascii_share,
    language_reason,
    length_reason,
    query_reason,
    repeated_share,
    repetition_reason,
)
from camelid.stages.magpie.stages import MinQuality
from camelid.stages.magpie.template import end_marker, load_template
from tests.conftest import camelid

SMOL = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"

LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>"
    "\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


@pytest.fixture(scope="module")
def smol_dir() -> str:
    return resolve_model("smollm2-135m-instruct")


def tokenizer_dir(tmp_path: Path, smol_dir: str, template: str | None) -> Path:
    """A tokenizer folder of another family: SmolLM2's vocabulary, this chat template."""
    folder = tmp_path / "tok"
    folder.mkdir()
    shutil.copy(Path(smol_dir) / "tokenizer.json", folder)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
              "eos_token": "<|eot_id|>"}  # fmt: skip
    if template is not None:
        config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_pre_query_of_the_default_model(smol_dir: str) -> None:
    template = load_template(smol_dir, "smollm2-135m-instruct")
    assert template.pre_query([]) == f"{SMOL}<|im_end|>\n<|im_start|>user\n"
    assert template.end_of_turn() == "<|im_end|>"
    steered = template.pre_query([], system="Ask about cooking.")
    assert steered == "<|im_start|>system\nAsk about cooking.<|im_end|>\n<|im_start|>user\n"
    follow_up = template.pre_query(
        [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]
    )
    assert follow_up.endswith(
        "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
        "<|im_start|>user\n"
    )
    assert template.hash(None) != template.hash("Ask about cooking.")


def test_pre_query_of_another_family(tmp_path: Path, smol_dir: str) -> None:
    template = load_template(str(tokenizer_dir(tmp_path, smol_dir, LLAMA3)), "llama-like")
    assert template.pre_query([]) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
    )
    assert template.pre_query([], system="Be brief.") == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n"
    )
    assert template.end_of_turn() == "<|eot_id|>"


def test_a_model_without_chat_template_is_named(tmp_path: Path, smol_dir: str) -> None:
    with pytest.raises(UsageError, match="base-model: the model has no chat template"):
        load_template(str(tokenizer_dir(tmp_path, smol_dir, None)), "base-model")


@pytest.mark.parametrize(
    ("tail", "marker"),
    [("<|im_end|>\n", "<|im_end|>"), (" [/INST]", "[/INST]"), ("\n\n### Response:\n", "### Response:"),
     ("", "")],
)  # fmt: skip
def test_end_marker(tail: str, marker: str) -> None:
    assert end_marker(tail) == marker


def test_length_and_language() -> None:
    assert length_reason("Hi there", 3, 10) == "too short: 2 words (at least 3)"
    assert length_reason("one two three four", 1, 3) == "too long: 4 words (at most 3)"
    assert length_reason("How do tides work?", 3, 10) is None
    assert ascii_share("Comment ça va") == pytest.approx(10 / 11)
    assert language_reason("How do tides work?", 0.9) is None
    assert (
        language_reason("潮汐是如何形成的", 0.9)
        == "not English: 0% of letters are ASCII (at least 90%)"
    )


def test_repetition() -> None:
    rules = Rules()
    assert repeated_share(["a", "b", "c", "d", "a", "b", "c", "d"], 4) == pytest.approx(1 / 5)
    assert repetition_reason("Explain how the moon causes tides on the coast.", rules) is None
    loop = "I like it. " + "The cat sat on the mat and " * 8
    assert repetition_reason(loop, rules).startswith("repetition: ")
    lines = "\n".join(["Step one is here."] * 3)
    assert repetition_reason(lines, rules) == (
        "repetition: a line repeated 3 times: 'Step one is here.'"
    )


def test_query_and_answer_reasons() -> None:
    rules = Rules()
    assert query_reason("  ", rules) == "empty query"
    assert query_reason("Hi", rules) == "query too short: 1 words (at least 3)"
    assert query_reason("What is the capital of France?", rules) is None
    assert answer_reason("", rules) == "empty answer"
    assert answer_reason("Paris is the capital of France.", rules) is None


def test_min_quality() -> None:
    good = make_record(instruction="a", scores={"quality": 3.2})
    low = make_record(instruction="b", scores={"quality": 1.5})
    unrated = make_record(instruction="c", scores={"quality": None})
    out = MinQuality(2.0)([good, low, unrated])
    assert out[0] is good
    assert out[1].reason == "query quality 1.50 below --min-quality 2"
    assert out[2].reason.startswith("query quality not rated")


QUERIES = [
    "Explain how the tides work in simple words.",
    "Write a short poem about the autumn rain.",
    "ok",
    "What are three tips for learning a new language?",
    "How do I sort a list of numbers in Python?",
]


def run_scripted(tmp_path: Path, smol_dir: str, name: str, *args: str) -> tuple[list, list]:
    replies = tmp_path / "replies.jsonl"
    replies.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-rejects.jsonl"
    result = camelid(
        "magpie", "--engine", "scripted", "--replies", str(replies),
        "--template-from", smol_dir, "--no-rate", "--seed", "3", "-o", str(out),
        "--rejects", str(rejects), *args, env={"CAMELID_REPLIES_PICK": "seed"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    read = [json.loads(line) for line in out.read_text().splitlines()]
    return read, [json.loads(line) for line in rejects.read_text().splitlines()]


def test_seeded_runs_do_not_depend_on_the_batch(tmp_path: Path, smol_dir: str) -> None:
    one, rejects = run_scripted(tmp_path, smol_dir, "one", "--n", "12", "--batch-size", "12")
    small, _ = run_scripted(tmp_path, smol_dir, "small", "--n", "12", "--batch-size", "5")
    key = lambda rows: sorted(json.dumps(r, sort_keys=True) for r in rows)  # noqa: E731
    assert key(one) == key(small) and one
    assert len(one) + len(rejects) == 12
    record = one[0]
    assert record["source"] == "magpie" and record["instruction"] in QUERIES
    assert [e["stage"] for e in record["lineage"]] == ["magpie.query", "magpie.answer"]
    assert all(r["reason"] == "query too short: 1 words (at least 3)" for r in rejects)


def test_multi_turn_and_resume(tmp_path: Path, smol_dir: str) -> None:
    rows, _ = run_scripted(tmp_path, smol_dir, "two", "--n", "6", "--turns", "2")
    assert rows and all([m["role"] for m in r["messages"]] ==
                        ["user", "assistant", "user", "assistant"] for r in rows)  # fmt: skip
    assert all(r["instruction"] == r["messages"][0]["content"] for r in rows)
    again, _ = run_scripted(tmp_path, smol_dir, "two", "--n", "6", "--turns", "2", "--resume")
    assert again == rows  # nothing redone, nothing written twice
    more, _ = run_scripted(tmp_path, smol_dir, "two", "--n", "8", "--turns", "2", "--resume")
    assert more[: len(rows)] == rows and len(more) >= len(rows)


def test_openai_without_a_template_is_a_clear_error() -> None:
    result = camelid("magpie", "--engine", "openai", "--base-url", "http://127.0.0.1:9/v1",
                     "--model", "served-name", "--n", "1")  # fmt: skip
    assert result.returncode == 2 and "--template-from DIR" in result.stderr


def test_help_has_example_and_fields() -> None:
    out = camelid("magpie", "--help").stdout
    for part in ("Example:  camelid magpie", "Reads: ", "Writes: ", "Exit codes: "):
        assert part in out
