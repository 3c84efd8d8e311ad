"""What each judge separates, not only whether it parses: for every rubric, on the default
model (and any --model given), real answers and known-bad controls (the answer of another
task) are judged side by side, as `score --audit` does. Per rubric and scoring method:

  parse rate   judgements that parsed into a valid rating
  AUC          P(real rated above its control) + ties / 2; 0.5 is a coin
  ties         share of (real, control) pairs rated the same

"sampled" is the rating the judge wrote; "expected" is the rating expected under its
probabilities over the allowed values (G-Eval), read from the same judgements. Real answers
are the human-written outputs of Self-Instruct's seed tasks. Writes out/bench/judge_quality.json.

    python tests/bench/judge_quality.py [N] [--model M ...] [--rubric R ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
RUBRICS = ("humpback", "alpagasus", "critique", "ultrafeedback")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=60)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--rubric", action="append", default=[])
    args = parser.parse_args()

    from camelid.engines.options import EngineOptions
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model
    from camelid.packs import load_pack
    from camelid.records import Record
    from camelid.runtime import batched
    from camelid.stages.score import Judge
    from camelid.stages.score.audit import plan_audit

    rows = [json.loads(line) for line in SEEDS.read_text().splitlines()][: args.n]
    records = [Record(instruction=r["instruction"], input=r["instances"][0]["input"],
                      output=r["instances"][0]["output"]) for r in rows]  # fmt: skip
    report: dict[str, dict] = {}
    print(f"{'model':<24} {'rubric':<14} {'scoring':<9} {'parse':>6} {'AUC':>6} {'ties':>6}")
    for model in args.model or [DEFAULT_MODEL]:
        engine = VLLMEngine(EngineOptions(seed=0, max_model_len=4096), resolve_model(model), model)
        for rubric in args.rubric or RUBRICS:
            pack = load_pack(rubric)
            controls = plan_audit(records, len(records), ["mismatched"], seed=0)
            judge = Judge(pack, engine, pack.sampling.merged(seed=0), scoring="expected",
                          controls=controls)  # fmt: skip
            start = time.perf_counter()
            judged = [r for batch in batched(records, 64) for r in judge(batch)]
            seconds = time.perf_counter() - start
            total = len(judged) * len(pack.manifest.rubric.aspects)  # type: ignore[union-attr]
            parse = 1 - judge.failed / total
            for scoring in ("sampled", "expected"):
                measured = judge.audit.report(expected=scoring == "expected")["mismatched"]
                row = {"parse_rate": round(parse, 4), **measured, "seconds": round(seconds, 1)}
                report.setdefault(model, {}).setdefault(rubric, {})[scoring] = row
                print(
                    f"{model:<24} {rubric:<14} {scoring:<9} {parse:>6.1%} "
                    f"{measured['auc']:>6.2f} {measured['ties']:>6.0%}",
                    flush=True,
                )
        engine.close()
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "judge_quality.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
