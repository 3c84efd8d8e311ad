"""Speed of the model steps on this CPU: the workloads camelid's commands send, in bfloat16
against float32, and camelid's engine against raw vLLM, beside the CPU's physical limit.

Workloads (real packs, real seed tasks, the default model):
  judge       Humpback rubric prompts (long), JSON-schema replies, as `score` sends them
  self-align  Dromedary's principles and exemplars (a long shared prefix), as `respond` sends
  chat        short instructions with the plain pack, as the quickstart sends them

Each configuration runs in its own process (vLLM's settings are per process), on the same token
ids and sampling, per-request seeds as camelid sends them:
  raw vLLM bf16 / raw vLLM float32   `vllm.LLM(model, dtype=...)` as its docs show it (its
                                     default engine-core process), enforce_eager and no chunked
                                     prefill as vLLM-CPU needs with seeds
  camelid bf16 / camelid float32     camelid's engine (core in process) at each dtype; the line
                                     `--dtype auto` prints says which one camelid picks here
Prints prompt and completion tokens/s per workload and the ratios; writes
out/bench/cpu_speed.json.

    python tests/bench/cpu_speed.py [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
SIZES = {"judge": 8, "self-align": 4, "chat": 16}
PARAMS = 134.5e6  # SmolLM2-135M: weights touched per token (2 FLOPs each, attention aside)


def workloads(quick: bool) -> dict[str, list]:
    """(prompt, sampling) per request, as the commands build them."""
    from camelid.packs import load_pack
    from camelid.records import Record
    from camelid.stages.score import Judge

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines()]
    scale = 0.5 if quick else 1.0
    answers = [Record(instruction=r["instruction"], input=r["instances"][0]["input"],
                      output=r["instances"][0]["output"]) for r in rows]  # fmt: skip
    judge = Judge(load_pack("humpback"), engine=None, sampling=load_pack("humpback").sampling)  # type: ignore[arg-type]
    out: dict[str, list] = {"judge": [], "self-align": [], "chat": []}
    for record in answers[: int(SIZES["judge"] * scale)]:
        [request] = judge.requests(record)  # type: ignore[misc]
        out["judge"].append((request.prompt, request.sampling.merged(seed=0)))
    align, plain = load_pack("self-align"), load_pack("plain")
    for record in answers[: int(SIZES["self-align"] * scale)]:
        out["self-align"].append(
            (align.render(record), align.sampling.merged(seed=0, max_tokens=128))
        )
    for record in answers[: int(SIZES["chat"] * scale)]:
        out["chat"].append((plain.render(record), plain.sampling.merged(seed=0, max_tokens=64)))
    return out


def run_config(config: str, quick: bool) -> dict:
    """In a child process: load one configuration and time every workload."""
    from camelid.engines.base import record_seed
    from camelid.engines.options import EngineOptions
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model

    path = resolve_model(DEFAULT_MODEL)
    start = time.perf_counter()
    dtype = config.split("-")[-1]
    engine = VLLMEngine(EngineOptions(dtype=dtype, seed=0), path, DEFAULT_MODEL) \
        if config.startswith("camelid") else None  # fmt: skip
    llm = None
    if engine is None:
        import vllm

        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        # The structured-output settings camelid uses too, so judge replies are alike.
        llm = vllm.LLM(model=path, dtype=dtype, seed=0, enforce_eager=True,
                       enable_chunked_prefill=False, enable_prefix_caching=True,
                       structured_outputs_config={"backend": "guidance",
                                                  "disable_any_whitespace": True})  # fmt: skip
        tokenizer = llm.get_tokenizer()
    loaded = time.perf_counter() - start
    report: dict = {"load_s": round(loaded, 1)}
    for name, requests in workloads(quick).items():
        seeds = [record_seed(0, f"{name}:{i}") for i in range(len(requests))]
        t0 = time.perf_counter()
        if engine is not None:
            sampling = requests[0][1]
            results = engine.generate([p for p, _ in requests], sampling, seeds)
            prompt = sum(g.prompt_tokens for r in results for g in r.generations)
            completion = sum(g.completion_tokens for r in results for g in r.generations)
        else:
            assert llm is not None
            helper = VLLMEngine.__new__(VLLMEngine)  # camelid's request building, no engine
            helper.tokenizer = tokenizer
            ids = [helper.token_ids(p) for p, _ in requests]
            params = [
                helper.sampling_params(s, seed)
                for (_, s), seed in zip(requests, seeds, strict=True)
            ]
            outputs = llm.generate([{"prompt_token_ids": i} for i in ids], params, use_tqdm=False)
            prompt = sum(len(i) for i in ids)
            completion = sum(len(o.outputs[0].token_ids) for o in outputs)
        seconds = time.perf_counter() - t0
        report[name] = {"requests": len(requests), "prompt_tokens": prompt,
                        "completion_tokens": completion, "seconds": round(seconds, 2),
                        "prompt_per_s": round(prompt / seconds, 1),
                        "completion_per_s": round(completion / seconds, 1)}  # fmt: skip
    return report


def cpu() -> dict:
    from camelid.engines.device import cpu_flags, has_native_bf16

    flags = cpu_flags()
    info = (
        Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    )
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), "unknown")  # fmt: skip
    cores = len(os.sched_getaffinity(0))
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4  # float32 per vector
    fma_units = 2  # assumed: two FMA pipes per core, as AVX2-era server cores have
    ghz = (max(mhz) if mhz else 2000.0) / 1000
    peak = cores * fma_units * lanes * 2 * ghz * 1e9  # an FMA is two FLOPs
    return {"model": model, "cores": cores, "ghz": round(ghz, 2), "native_bf16": has_native_bf16(flags),
            "flags": sorted(f for f in flags if f.startswith(("avx", "amx", "fma"))),
            "peak_gflops_float32": round(peak / 1e9, 1),
            "peak_tokens_per_s": round(peak / (2 * PARAMS))}  # fmt: skip


def main(quick: bool) -> None:
    from camelid.engines.device import choose_dtype

    dtypes = ("bfloat16", "float32")
    configs = [f"{side}-{dtype}" for dtype in dtypes for side in ("raw-vllm", "camelid")]
    machine = cpu()
    print(
        f"CPU: {machine['model']}, {machine['cores']} cores at {machine['ghz']} GHz; "
        f"flags {' '.join(machine['flags'])}; native bf16: {machine['native_bf16']}"
    )
    print(
        f"physical limit (float32): {machine['peak_gflops_float32']} GFLOP/s = "
        f"{machine['peak_tokens_per_s']} prompt tokens/s for the 135M model "
        "(cores x 2 FMA units x SIMD lanes x 2 FLOPs x clock; 2 FLOPs per weight per token; "
        "an upper bound: cores that split 512-bit work in two halve it)"
    )
    auto = choose_dtype("auto", on_cpu=True)
    print(f"camelid's --dtype auto on this CPU: {auto}")
    results: dict = {"cpu": machine, "auto_dtype": auto}
    for config in configs:
        done = subprocess.run([sys.executable, __file__, "--child", config, *(["--quick"] if quick else [])],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
        results[config] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{config}: loaded in {results[config]['load_s']} s", flush=True)
    print(f"{'workload':<11} {'config':<18} {'prompt tok/s':>12} {'reply tok/s':>12}")
    for name in SIZES:
        for config in configs:
            row = results[config][name]
            print(
                f"{name:<11} {config:<18} {row['prompt_per_s']:>12} {row['completion_per_s']:>12}"
            )
        f32, bf16 = results["raw-vllm-float32"][name], results["raw-vllm-bfloat16"][name]
        ours = results[f"camelid-{auto}"][name]
        same = {d: results[f"raw-vllm-{d}"][name]["seconds"] / results[f"camelid-{d}"][name]["seconds"]
                for d in dtypes}  # fmt: skip
        print(
            f"{'':<11} float32 speed / bf16 speed (raw vLLM) {bf16['seconds'] / f32['seconds']:.2f}x; "
            f"camelid/raw vLLM bf16 {same['bfloat16']:.2f}x, float32 {same['float32']:.2f}x; "
            f"camelid ({auto}) at {ours['prompt_per_s'] / machine['peak_tokens_per_s']:.0%} of the "
            "float32 physical limit"
        )
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cpu_speed.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    if "--child" in sys.argv:
        config = sys.argv[sys.argv.index("--child") + 1]
        if config.startswith("raw-vllm"):
            os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
        print(json.dumps(run_config(config, "--quick" in sys.argv)))
    else:
        main("--quick" in sys.argv)
