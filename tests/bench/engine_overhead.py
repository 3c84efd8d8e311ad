"""Benchmark: camelid's engine layer against raw vLLM on the workloads the commands send, and
what per-record seeds, structured output and prefix caching cost or buy.

Run with `make bench`. One vLLM engine (the default model, float32 on CPUs without bf16) serves
both sides: "raw" calls `llm.chat` with vLLM's own `SamplingParams` as its docs show; "camelid"
calls `VLLMEngine.generate` as the stages do (chat template, per-request parameters, context
checks, results converted). Each workload is timed 3 times per side, alternating, after a warm-up
of both; the prefix cache is emptied before every timed run (so no run reuses another's prompts)
and, where a shared prefix is the point, warmed with one request first. Figures are the median
run; reply tokens/s and camelid/raw (1.0 = no overhead). Where both sides sample with the same
seeds their texts are compared: identical means camelid sends exactly what vLLM would.

Workloads (real packs over the Self-Instruct seed tasks):
  chat greedy          plain pack, temperature 0 (the old, easy figure)
  chat seeded          plain pack, temperature 0.7, a seed per record (as every command sends)
  chat unseeded        the same without seeds: what per-record seeds cost
  judge json           Humpback rubric, JSON schema and 20 logprobs per token (as `score` sends)
  judge free           the same prompts without the schema: what structured output costs
  self-align           Dromedary's long principles + exemplars prefix, cache warm
Then the self-align prompts through a second engine without prefix caching (warmed too).

`engine_overhead.py "chat greedy" --repeats=9` reruns some workloads alone (written to
out/bench/engine_overhead_some.json). Writes out/bench/engine_overhead.json. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEEDS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
# Median of this many alternating runs per side (--repeats N to change it for a rerun).
REPEATS = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--repeats=")), 3))
sys.path.insert(0, str(HERE))


def workloads() -> dict[str, tuple[list, Any]]:
    """name -> (prompts, Sampling): one sampling per workload, as one batch of a command."""
    from camelid.packs import load_pack
    from camelid.records import Record
    from camelid.stages.score import Judge

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]
    records = [Record(instruction=r["instruction"], input=r["instances"][0]["input"],
                      output=r["instances"][0]["output"]) for r in rows]  # fmt: skip
    plain, align, rubric = load_pack("plain"), load_pack("self-align"), load_pack("humpback")
    chat = [plain.render(r) for r in records[:32]]
    judge = Judge(rubric, engine=None, sampling=rubric.sampling, scoring="expected")  # type: ignore[arg-type]
    judged = [judge.requests(r)[0] for r in records[32:40]]  # type: ignore[index]
    json_sampling = judged[0].sampling.merged(temperature=0.0)
    free = json_sampling.model_copy(update={"json_schema": None, "logprobs": None})
    aligned = [align.render(r) for r in records[40:49]]
    return {
        "chat greedy": (chat, plain.sampling.merged(temperature=0.0, max_tokens=64)),
        "chat seeded": (chat, plain.sampling.merged(temperature=0.7, max_tokens=64, seed=0)),
        "chat unseeded": (chat, plain.sampling.merged(temperature=0.7, max_tokens=64)),
        "judge json": ([r.prompt for r in judged], json_sampling),
        "judge free": ([r.prompt for r in judged], free),
        "self-align": (aligned, align.sampling.merged(max_tokens=64, seed=0)),
    }


def raw_params(sampling: Any, seed: int | None) -> Any:
    """vLLM's own SamplingParams for the same settings, written out as its docs show."""
    from vllm.sampling_params import SamplingParams, StructuredOutputsParams

    schema = sampling.json_schema
    return SamplingParams(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=sampling.max_tokens,
        stop=sampling.stop or None,
        seed=seed,
        logprobs=sampling.logprobs,
        structured_outputs=StructuredOutputsParams(json=schema) if schema else None,
    )


class Side:
    """One way of sending a workload, timed on a cold cache (or one warmed by `warm`)."""

    def __init__(self, engine: Any, prompts: list, sampling: Any, warm: bool) -> None:
        from camelid.engines.base import record_seed

        self.engine, self.prompts, self.sampling, self.warm = engine, prompts, sampling, warm
        seeded = sampling.seed is not None
        self.seeds = [record_seed(0, str(i)) for i in range(len(prompts))] if seeded else None

    def _prepare(self) -> None:
        self.engine.llm.reset_prefix_cache()
        if self.warm:  # the shared prefix in the cache, as after a command's first batch
            self.engine.generate(self.prompts[:1], self.sampling.merged(max_tokens=1))

    def raw(self) -> tuple[float, int, list[str]]:
        self._prepare()
        seeds = self.seeds or [None] * len(self.prompts)
        params = [raw_params(self.sampling, s) for s in seeds]
        prompts = self.prompts
        start = time.perf_counter()
        if isinstance(prompts[0], str):
            outputs = self.engine.llm.generate(prompts, params, use_tqdm=False)
        else:
            outputs = self.engine.llm.chat(prompts, params, use_tqdm=False)
        seconds = time.perf_counter() - start
        texts = [o.outputs[0].text for o in outputs]
        return seconds, sum(len(o.outputs[0].token_ids) for o in outputs), texts

    def camelid(self) -> tuple[float, int, list[str]]:
        self._prepare()
        start = time.perf_counter()
        results = self.engine.generate(self.prompts, self.sampling, self.seeds)
        seconds = time.perf_counter() - start
        texts = [r.generations[0].text for r in results]
        return seconds, sum(r.generations[0].completion_tokens for r in results), texts


def median_run(runs: list[tuple[float, int, list[str]]]) -> dict[str, Any]:
    seconds = statistics.median(r[0] for r in runs)
    tokens = runs[0][1]
    return {"seconds": round(seconds, 2), "reply_tokens": tokens,
            "reply_per_s": round(tokens / seconds, 1), "texts": runs[0][2]}  # fmt: skip


def main() -> None:
    from camelid.engines.options import EngineOptions
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model

    path = resolve_model(DEFAULT_MODEL)
    options = EngineOptions(seed=0, max_model_len=4096)
    engine = VLLMEngine(options, model_path=path, model_name=DEFAULT_MODEL)
    work = workloads()
    chosen = [a for a in sys.argv[1:] if not a.startswith("--")]
    if unknown := [name for name in chosen if name not in work]:
        raise SystemExit(f"unknown workload {unknown}; choose from {', '.join(work)}")
    engine.generate(work["chat greedy"][0][:4], work["chat greedy"][1])  # warm-up of the engine
    results: dict[str, Any] = {}
    print(f"{'workload':<15} {'raw s':>7} {'camelid s':>10} {'camelid/raw':>12} {'same texts':>11}")
    for name, (prompts, sampling) in work.items():
        if chosen and name not in chosen:
            continue
        side = Side(engine, prompts, sampling, warm=name == "self-align")
        side.raw(), side.camelid()  # warm both before timing
        raw_runs, ours_runs = [], []
        for _ in range(REPEATS):  # alternate, so neither side gets a warmer machine
            raw_runs.append(side.raw())
            ours_runs.append(side.camelid())
        raw, ours = median_run(raw_runs), median_run(ours_runs)
        deterministic = sampling.temperature == 0 or sampling.seed is not None
        same = raw["texts"] == ours["texts"] if deterministic else None
        results[name] = {
            "requests": len(prompts),
            "raw": {k: v for k, v in raw.items() if k != "texts"},
            "camelid": {k: v for k, v in ours.items() if k != "texts"},
            "camelid_over_raw": round(raw["seconds"] / ours["seconds"], 3),
            "same_texts": same,
        }
        print(
            f"{name:<15} {raw['seconds']:>7} {ours['seconds']:>10} "
            f"{results[name]['camelid_over_raw']:>12.3f} {'-' if same is None else same!s:>11}",
            flush=True,
        )
    if chosen:  # a rerun of some workloads: their rows only, into a file of their own
        engine.close()
        out = ROOT / "out" / "bench" / "engine_overhead_some.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"repeats": REPEATS, "workloads": results}, indent=2) + "\n")
        print(f"wrote {out}")
        return
    prefix = work["self-align"]
    prefix_tokens = len(engine.token_ids(prefix[0][0]))
    engine.close()

    no_cache = VLLMEngine(
        options.model_copy(update={"prefix_caching": False}), model_path=path, model_name="off"
    )
    no_cache.generate(prefix[0][:1], prefix[1].merged(max_tokens=1))  # warmed like the other
    off = statistics.median(
        _seconds(no_cache.generate, prefix[0], prefix[1]) for _ in range(REPEATS)
    )
    no_cache.close()
    on = results["self-align"]["camelid"]["seconds"]
    results["prefix_cache"] = {
        "prompt_tokens_first_request": prefix_tokens,
        "requests": len(prefix[0]),
        "on_s": on,
        "off_s": round(off, 2),
        "speedup": round(off / on, 2),
    }
    seeded, unseeded = results["chat seeded"], results["chat unseeded"]
    schema, free = results["judge json"], results["judge free"]
    summary = {
        "per_record_seeds_cost": round(
            seeded["camelid"]["seconds"] / unseeded["camelid"]["seconds"], 3
        ),
        # per reply token: a free-text judge writes replies of another length
        "structured_output_cost": round(
            free["camelid"]["reply_per_s"] / schema["camelid"]["reply_per_s"], 3
        ),
    }
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "dtype": engine.dtype,
        },  # fmt: skip
        "model": DEFAULT_MODEL,
        "repeats": REPEATS,
        "workloads": results,
        "summary": summary,
    }
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"prefix cache (self-align, {prefix_tokens}-token prompts, warm): on {on} s, off "
        f"{off:.2f} s: {results['prefix_cache']['speedup']:.2f}x"
    )
    print(
        f"time with per-record seeds / without: {summary['per_record_seeds_cost']:.3f}; "
        f"judge with JSON schema + logprobs / free text, time per reply token: "
        f"{summary['structured_output_cost']:.3f}"
    )
    print(f"wrote {out / 'engine_overhead.json'}")


def _seconds(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
