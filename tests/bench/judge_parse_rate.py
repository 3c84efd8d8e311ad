"""Benchmark: share of judgements that parse into a valid score on the default 135M model.

Target: at least 99.9% for every rubric (the unofficial Humpback reproduction lost 45% of its
scores to parse failures). Judges the human answers of the 175 Self-Instruct seed tasks, and
answers paired with the wrong task, with every rubric at temperature 0.7 (sampled, so replies
vary), and writes out/bench/judge_parse_rate.json.
Usage: python tests/bench/judge_parse_rate.py [N [RUBRIC...]]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"


def main(per_rubric: int) -> None:
    from camelid.engines.options import EngineOptions
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model
    from camelid.packs import load_pack
    from camelid.records import Record
    from camelid.runtime import batched
    from camelid.stages.score import Judge, answers_of, count_failures

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]
    answers = [r["instances"][0]["output"] for r in rows]
    records = []
    for i in range(per_rubric):  # right answers, then answers to another task
        row = rows[i % len(rows)]
        shift = 0 if i < len(rows) else 1 + i // len(rows)
        output = answers[(i + shift) % len(rows)]
        records.append(
            {
                "instruction": row["instruction"],
                "input": row["instances"][0]["input"],
                "output": output,
            }
        )

    engine = VLLMEngine(
        EngineOptions(seed=0, max_model_len=4096), resolve_model(DEFAULT_MODEL), DEFAULT_MODEL
    )
    report: dict[str, object] = {"model": DEFAULT_MODEL, "rubrics": {}}
    for rubric in sys.argv[2:] or ("humpback", "alpagasus", "critique", "ultrafeedback"):
        pack = load_pack(rubric)
        if rubric == "ultrafeedback":  # two answers per prompt, rated together
            recs = [
                Record.model_validate(
                    {
                        **r,
                        "output": None,
                        "completions": [{"text": r["output"]}, {"text": answers[i % len(answers)]}],
                    }
                )
                for i, r in enumerate(records[: per_rubric // 2])
            ]
        else:
            recs = [Record.model_validate(r) for r in records]
        start = time.perf_counter()
        judge = Judge(pack, engine, pack.sampling.merged(seed=0, temperature=0.7))
        scored = [r for batch in batched(recs, 64) for r in judge(batch)]
        seconds = time.perf_counter() - start
        aspects = len(pack.manifest.rubric.aspects)
        judgements = sum(len(answers_of(r)) for r in scored) * aspects
        failed = sum(count_failures(r) for r in scored)
        for r in scored:
            for target in r.completions or [r]:
                for aspect, err in ((target.model_extra or {}).get("judge_errors") or {}).items():
                    print(f"  failed {aspect}: {err['error']}: {str(err.get('raw'))[:200]!r}")
        rate = 1 - failed / judgements
        report["rubrics"][rubric] = {
            "judgements": judgements,
            "failed": failed,
            "parse_rate": round(rate, 5),
            "seconds": round(seconds, 1),
        }
        print(
            f"{rubric:<14} {judgements:>5} judgements, {failed} failed: parse rate {rate:.4%} ({seconds:.0f} s)",
            flush=True,
        )
    engine.close()
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "judge_parse_rate.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 350)
