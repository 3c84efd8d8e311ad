#!/usr/bin/env bash
# Best-of-n with a reward model (rejection sampling, as Llama 2 (Touvron et al., 2023) sampled
# K answers per prompt and kept the one its reward model scored highest; Stiennon et al., 2020
# and Nakano et al., 2021 (WebGPT) measured best-of-n against a single sample).
#
# Steps and what each writes (in $OUT):
#   1. seed     builtin.jsonl    the built-in seed tasks, shuffled; the first $SIZE are the
#                                prompts (prompts.jsonl), the others (or $SEEDS) the tasks
#                                the reward model learns from (tasks.jsonl)
#      (python) pairs.jsonl      preference pairs: a task's own answer chosen over the answer of
#                                another task (the mismatched answers score's audit uses), in
#                                the instruction/chosen/rejected shape `camelid pairs` writes
#   2. train    reward/          a reward model (`--task reward`, LoRA) on those pairs; skipped
#                                for $PAIRS (pairs of your own) or $REWARD_MODEL (a trained one)
#   3. respond  completions.jsonl  $K sampled completions per prompt
#   4. score    scored.jsonl     scores.reward on every completion (--reward-model)
#   5. filter   best.jsonl       the best completion by reward becomes the output (--best-of)
# At the end, the mean reward of the chosen best against that of each prompt's first sample
# (completion 0: what one sample would have given) on stderr.
#
# Scale up on a GPU box: pairs from `camelid pairs` (e.g. examples/ultrafeedback.sh's
# pairs.jsonl) as PAIRS=..., STEPS=0 (whole epochs), SIZE=5000 K=16 MODEL=/path/to/policy
#   PAIRS=out/ultrafeedback/pairs.jsonl STEPS=0 SIZE=5000 K=16 bash examples/best_of_n.sh
set -euo pipefail

SIZE=${SIZE:-8}
K=${K:-4}
MODEL=${MODEL:-smollm2-135m-instruct}
SEEDS=${SEEDS:-}
PAIRS=${PAIRS:-}
REWARD_MODEL=${REWARD_MODEL:-}
STEPS=${STEPS:-8}
OUT=${OUT:-out/best_of_n}
mkdir -p "$OUT"
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")

camelid seed --builtin --shuffle --seed 1 -o "$OUT/builtin.jsonl"
head -n "$SIZE" "$OUT/builtin.jsonl" > "$OUT/prompts.jsonl"
if [ -z "$REWARD_MODEL" ]; then
  if [ -z "$PAIRS" ]; then
    if [ -n "$SEEDS" ]; then
      camelid seed "$SEEDS" -o "$OUT/tasks.jsonl"
    else  # not the prompts: the reward model never saw their answers
      tail -n "+$((SIZE + 1))" "$OUT/builtin.jsonl" > "$OUT/tasks.jsonl"
    fi
    # Each task's answer chosen, the next task's answer (another instruction's) rejected.
    python3 -c 'import json, sys
tasks = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
tasks = [t for t in tasks if t.get("instruction") and t.get("output")]
for i, task in enumerate(tasks):
    other = tasks[(i + 1) % len(tasks)]
    print(json.dumps({"instruction": task["instruction"], "input": task.get("input") or "",
                      "chosen": task["output"], "rejected": other["output"]}))' \
      "$OUT/tasks.jsonl" > "$OUT/pairs.jsonl"
    PAIRS="$OUT/pairs.jsonl"
  fi
  # A tiny run: few steps at a high LoRA rate (the default 1e-4 is for whole epochs).
  camelid train --task reward "$PAIRS" --model "$MODEL" ${steps[@]+"${steps[@]}"} \
    --batch-size "${BATCH:-4}" --grad-accum 1 --max-length "${MAX_LENGTH:-512}" \
    --lr "${LR:-5e-4}" -o "$OUT/reward" > /dev/null
  REWARD_MODEL="$OUT/reward"
fi

# Sampled at temperature 1.0 so that the K completions differ (greedy would give K copies).
camelid respond "$OUT/prompts.jsonl" --model "$MODEL" --n "$K" --keep-truncated \
  --temperature 1.0 --top-p 1.0 --max-tokens "${MAX_TOKENS:-256}" --seed 0 \
  -o "$OUT/completions.jsonl" --rejects "$OUT/respond-rejects.jsonl"
camelid score "$OUT/completions.jsonl" --reward-model "$REWARD_MODEL" \
  -o "$OUT/scored.jsonl" --rejects "$OUT/score-rejects.jsonl" --stats "$OUT/score-stats.json"
camelid filter "$OUT/scored.jsonl" --best-of -o "$OUT/best.jsonl" \
  --rejects "$OUT/filter-rejects.jsonl"

python3 -c 'import json, sys
scored = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
best = {r["id"]: r["scores"]["reward"] for r in map(json.loads, open(sys.argv[2]))}
first = [r["completions"][0]["scores"]["reward"] for r in scored if r["id"] in best]
first = [x for x in first if x is not None]
if not first:
    sys.exit("best_of_n: no prompt has a scored first completion")
b, f = sum(best.values()) / len(best), sum(first) / len(first)
print(f"best_of_n: {len(best)} prompts, best of {sys.argv[3]} mean reward {b:.3f} vs the first "
      f"sample {f:.3f}: gain {b - f:+.3f}; best answers in {sys.argv[2]}", file=sys.stderr)' \
  "$OUT/scored.jsonl" "$OUT/best.jsonl" "$K"
