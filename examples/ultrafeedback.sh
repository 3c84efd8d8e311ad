#!/usr/bin/env bash
# UltraFeedback (Cui et al., 2024) and Zephyr (Tunstall et al., 2023): several completions per
# prompt from a pool of models, fine-grained ratings, preference pairs, DPO.
#
# Steps and what each writes (in $OUT):
#   1. seed     prompts.jsonl    $SIZE prompts (built-in seed tasks, or $PROMPTS)
#   2. respond  completions.jsonl  4 completions per prompt from the model pool (a pool of 4
#                                  or more: 4 distinct models drawn per prompt, as UltraFeedback
#                                  drew 4 of its 17), each with a principle system prompt
#                                  (helpfulness, truthfulness, honesty, verbalized calibration)
#   3. score    rated.jsonl      the four UltraFeedback aspects (instruction following,
#                                helpfulness, truthfulness, honesty) with rationales, all
#                                completions of a prompt rated together in a shuffled order;
#                                truthfulness against a prompt's `reference` when it has one
#   4. pairs    pairs.jsonl      Zephyr's binarization: the best-rated completion as chosen, a
#                                random other one as rejected
#   5. train    dpo/             DPO on the pairs
#
# Scale up on a GPU box: SIZE=60000 MODELS="llama=/m/llama mistral=/m/mistral qwen=/m/qwen" \
#   JUDGE=/m/judge STEPS=0 bash examples/ultrafeedback.sh
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

SIZE=${SIZE:-3}
MODEL=${MODEL:-smollm2-135m-instruct}
# The pool: NAME=MODEL entries. Two names for the default model keep the tiny run offline.
MODELS=${MODELS:-"a=$MODEL b=$MODEL"}
JUDGE=${JUDGE:-$MODEL}
PROMPTS=${PROMPTS:-}
STEPS=${STEPS:-2}
OUT=${OUT:-out/ultrafeedback}
mkdir -p "$OUT"
# SERVE=1: one vLLM server for every step on $MODEL (`camelid serve`), started here and stopped
# at the end, instead of a model load per step; steps on models this recipe trains load those.
local=()
if [ "${SERVE:-0}" = 1 ]; then
  camelid serve "$MODEL" > "$OUT/serve.env"
  . "$OUT/serve.env"
  trap 'camelid serve --stop "$MODEL"' EXIT
  local=(--engine vllm)
fi
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")
pool=(); for m in $MODELS; do pool+=(--model "$m"); done

if [ -n "$PROMPTS" ]; then
  camelid seed "$PROMPTS" --limit "$SIZE" -o "$OUT/prompts.jsonl"
else
  camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/prompts.jsonl"
fi
# UltraFeedback sampled its completions at temperature 1.0 and top-p 1.0, up to 1024 tokens;
# the tiny run keeps 256 (MAX_TOKENS=1024 on a GPU box). Every model's completion is kept and
# rated, a cut-off one too (the judge rates it down), so each prompt has all 4.
camelid respond "$OUT/prompts.jsonl" --n 4 "${pool[@]}" --principle-prompts --keep-truncated \
  --temperature 1.0 --top-p 1.0 --max-tokens "${MAX_TOKENS:-256}" \
  --seed 0 -o "$OUT/completions.jsonl" --rejects "$OUT/respond-rejects.jsonl"
camelid score "$OUT/completions.jsonl" --rubric ultrafeedback --model "$JUDGE" --seed 0 \
  -o "$OUT/rated.jsonl"
camelid pairs "$OUT/rated.jsonl" --seed 0 -o "$OUT/pairs.jsonl" --rejects "$OUT/pairs-rejects.jsonl"
camelid train --task dpo "$OUT/pairs.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} \
  -o "$OUT/dpo"

echo "ultrafeedback: $(wc -l < "$OUT/pairs.jsonl") preference pairs, DPO model in $OUT/dpo" >&2
. "$(dirname "$0")/eval_step.sh" "$OUT/dpo"  # EVAL=FILE: trained vs base
