"""Benchmark: camelid's engine layer against raw vLLM, and prefix caching on against off.

Run with `make bench`. Prints generated tokens/s for each run and the ratios (targets: camelid /
raw >= 0.95; prefix cache speed-up >= 4x) and writes them to out/bench/engine_overhead.json.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"


def questions() -> list[str]:
    rows = [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]
    return [r["instruction"] for r in rows]


def long_prefix(tokenizer, target_tokens: int = 1500) -> str:
    """Guidelines plus few-shot exemplars from the real seed tasks, ~target_tokens long."""
    rows = [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]
    text = (
        "You are a careful assistant. Follow these guidelines: be accurate, say when you are "
        "unsure, answer step by step when reasoning is needed, stay on the question.\n\n"
        "Here are examples of tasks and good answers.\n\n"
    )
    for row in rows:
        inst = row["instances"][0]
        text += f"Task: {row['instruction']}\nInput: {inst['input']}\nAnswer: {inst['output']}\n\n"
        if len(tokenizer.encode(text)) >= target_tokens:
            break
    return text


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    from camelid.engines.options import EngineOptions
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model
    from camelid.sampling import Sampling

    path = resolve_model(DEFAULT_MODEL)
    options = EngineOptions(seed=0, max_model_len=4096)
    engine = VLLMEngine(options, model_path=path, model_name=DEFAULT_MODEL)
    sampling = Sampling(temperature=0.0, max_tokens=64)
    params = engine.sampling_params(sampling)
    convs = [[{"role": "user", "content": q}] for q in questions()[:64]]

    engine.generate(convs[:4], sampling)  # warm up
    raw_runs, ours_runs = [], []
    for _ in range(2):  # alternate, so neither side gets a warmer machine
        secs, outs = timed(lambda: engine.llm.chat(convs, params, use_tqdm=False))
        raw_runs.append(sum(len(o.outputs[0].token_ids) for o in outs) / secs)
        secs, results = timed(lambda: engine.generate(convs, sampling))
        ours_runs.append(sum(r.generations[0].completion_tokens for r in results) / secs)
    raw_tps, ours_tps = max(raw_runs), max(ours_runs)

    prefix = long_prefix(engine.tokenizer)
    shared = [
        [{"role": "system", "content": prefix}, {"role": "user", "content": q}]
        for q in questions()[64:96]
    ]
    short = Sampling(temperature=0.0, max_tokens=32)
    cached_secs, cached = timed(lambda: engine.generate(shared, short))
    prefix_tokens = len(engine.tokenizer.encode(prefix))
    engine.close()

    no_cache = VLLMEngine(
        options.model_copy(update={"prefix_caching": False}), model_path=path, model_name="no-cache"
    )
    uncached_secs, _ = timed(lambda: no_cache.generate(shared, short))
    no_cache.close()

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
        },
        "model": DEFAULT_MODEL,
        "raw_vllm_tokens_per_s": round(raw_tps, 1),
        "camelid_tokens_per_s": round(ours_tps, 1),
        "camelid_over_raw": round(ours_tps / raw_tps, 3),
        "prefix_tokens": prefix_tokens,
        "prefix_requests": len(shared),
        "prefix_cache_on_s": round(cached_secs, 2),
        "prefix_cache_off_s": round(uncached_secs, 2),
        "prefix_cache_speedup": round(uncached_secs / cached_secs, 2),
        "replies_with_cache": sum(1 for r in cached if r.ok),
    }
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(
        f"camelid/raw throughput: {report['camelid_over_raw']:.3f} (target >= 0.95); "
        f"prefix cache speed-up: {report['prefix_cache_speedup']:.2f}x (target >= 4x)"
    )


if __name__ == "__main__":
    main()
