#!/usr/bin/env bash
# Instruction Backtranslation / Humpback (Li et al., 2024): self-augment unlabelled human text
# with instructions, self-curate the pairs with the model itself, train, and iterate: the model
# each round trains is the curator of the next.
#
# Steps and what each writes (in $OUT):
#   1. seed            seeds.jsonl      seed instruction/answer pairs (built-in, or $SEEDS)
#   2. train backward  backward/        the backward model p(instruction | answer), learned on
#                                       the seed pairs turned around
#   3. train sft       m0/              M0: the base model fine-tuned on the seed pairs, the
#                                       first curator (Humpback's M0, never the raw base model)
#   4. seed            segments.jsonl   unlabelled text ($DOCS: files or folders of txt/md/html)
#                                       split into self-contained segments
#   5. backtranslate   augmented.jsonl  the backward model writes the instruction each segment
#                                       answers (source: augmented)
#   6. score + filter  curated1.jsonl   round one: M0 rates each pair 1-5 (Humpback's rubric,
#                                       scored1.jsonl) and the best are kept ($TOP of them, or
#                                       those rated at least $MIN_QUALITY when it is set)
#   7. train sft       m1/              M1: the base model on seed + curated1 data, each tagged
#                                       with a system prompt saying where it came from (seed:
#                                       AI-assistant style; augmented: web knowledge), as
#                                       Humpback tagged them (the wording is our paraphrase)
#   8. score + filter  curated2.jsonl   round two: M1 rates the augmented pairs again
#   9. train sft       m2/              M2: the base model on seed + curated2 data
#
# Scale up on a GPU box: DOCS=/data/clueweb-sample SEEDS=oasst.jsonl MODEL=/path/to/base \
#   MIN_QUALITY=5 STEPS=0 bash examples/humpback.sh   (STEPS=0: full epochs)
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

MODEL=${MODEL:-smollm2-135m-instruct}
DOCS=${DOCS:-README.md}
SEEDS=${SEEDS:-}
SIZE=${SIZE:-6}          # segments used
# Curation: Humpback kept the pairs its model rated 5 (MIN_QUALITY=5 on a GPU box). The tiny
# default judge rarely rates that high, so by default the best half of each round is kept.
MIN_QUALITY=${MIN_QUALITY:-}
TOP=${TOP:-50%}
curate=(--top "$TOP" --top-by quality); [ -n "$MIN_QUALITY" ] && curate=(--min-score "quality=$MIN_QUALITY")
STEPS=${STEPS:-2}        # training steps of each sft model (0: full epochs)
# Turning the model around takes more than a couple of steps: with fewer than ~30 here, the
# 135M model kept answering the segment instead of asking for it. 0 with STEPS=0: full epochs.
BACKWARD_STEPS=${BACKWARD_STEPS:-$(( STEPS > 0 ? 30 : 0 ))}
OUT=${OUT:-out/humpback}
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
backward=(); [ "$BACKWARD_STEPS" -gt 0 ] && backward=(--max-steps "$BACKWARD_STEPS" --batch-size 4 \
  --grad-accum 1 --max-length 512 --lr 3e-4)  # a short run: small batches, a higher rate

if [ -n "$SEEDS" ]; then
  camelid seed "$SEEDS" -o "$OUT/seeds.jsonl"
else
  camelid seed --builtin -o "$OUT/seeds.jsonl"
fi
camelid train --task backward "$OUT/seeds.jsonl" --model "$MODEL" ${backward[@]+"${backward[@]}"} \
  -o "$OUT/backward"
camelid train --task sft "$OUT/seeds.jsonl" --humpback-tags --model "$MODEL" \
  ${steps[@]+"${steps[@]}"} -o "$OUT/m0"
camelid seed "$DOCS" --limit "$SIZE" -o "$OUT/segments.jsonl"
camelid backtranslate "$OUT/segments.jsonl" --pack backward --model "$OUT/backward" --seed 0 \
  ${local[@]+"${local[@]}"} -o "$OUT/augmented.jsonl" --rejects "$OUT/backtranslate-rejects.jsonl"

# Round r: the model of round r-1 curates the augmented pairs; the base model then trains on
# seed + its choice (Humpback trains each model from the base, not from the previous one).
curator="$OUT/m0"
for round in 1 2; do
  camelid score "$OUT/augmented.jsonl" --rubric humpback --model "$curator" --seed 0 \
    ${local[@]+"${local[@]}"} -o "$OUT/scored$round.jsonl"
  camelid filter "$OUT/scored$round.jsonl" "${curate[@]}" -o "$OUT/curated$round.jsonl" \
    --rejects "$OUT/filter-rejects$round.jsonl"
  cat "$OUT/seeds.jsonl" "$OUT/curated$round.jsonl" > "$OUT/train$round.jsonl"
  camelid train --task sft "$OUT/train$round.jsonl" --humpback-tags --model "$MODEL" \
    ${steps[@]+"${steps[@]}"} -o "$OUT/m$round"
  echo "humpback: round $round: $(basename "$curator") kept $(wc -l < "$OUT/curated$round.jsonl") of $(wc -l < "$OUT/augmented.jsonl") augmented pairs; trained m$round" >&2
  curator="$OUT/m$round"
done
. "$(dirname "$0")/eval_step.sh" "$curator"  # EVAL=FILE: trained vs base
