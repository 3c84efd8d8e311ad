#!/usr/bin/env bash
# Instruction Backtranslation / Humpback (Li et al., 2024): self-augment unlabelled human text
# with instructions, self-curate the pairs, train, and iterate with the better model.
#
# Steps and what each writes (in $OUT):
#   1. seed            seeds.jsonl      seed instruction/answer pairs (built-in, or $SEEDS)
#   2. train backward  backward/        the backward model p(instruction | answer), learned on
#                                       the seed pairs turned around
#   3. seed            segments.jsonl   unlabelled text ($DOCS: files or folders of txt/md/html)
#                                       split into self-contained segments
#   4. backtranslate   augmented.jsonl  the backward model writes the instruction each segment
#                                       answers (source: augmented)
#   5. score           scored.jsonl     the seed model rates each pair 1-5 (Humpback's rubric)
#   6. filter          curated.jsonl    the best pairs ($TOP of them, or those scoring at least
#                                       $MIN_QUALITY when it is set)
#   7. train sft       m1/              seed + curated data, with Humpback's two system-prompt
#                                       tags (seed: AI-assistant style; augmented: knowledge
#                                       from web search)
#   8. score + filter  curated2.jsonl   round two: the new model M1 rates the augmented pairs
#                                       again, and its choice is the data for training M2
#
# Scale up on a GPU box: DOCS=/data/clueweb-sample SEEDS=oasst.jsonl MODEL=/path/to/base \
#   MIN_QUALITY=5 STEPS=0 bash examples/humpback.sh   (STEPS=0: full epochs)
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
camelid seed "$DOCS" --limit "$SIZE" -o "$OUT/segments.jsonl"
camelid backtranslate "$OUT/segments.jsonl" --pack backward --model "$OUT/backward" --seed 0 \
  ${local[@]+"${local[@]}"} -o "$OUT/augmented.jsonl" --rejects "$OUT/backtranslate-rejects.jsonl"
camelid score "$OUT/augmented.jsonl" --rubric humpback --model "$MODEL" --seed 0 \
  -o "$OUT/scored.jsonl"
camelid filter "$OUT/scored.jsonl" "${curate[@]}" -o "$OUT/curated.jsonl" \
  --rejects "$OUT/filter-rejects.jsonl"
cat "$OUT/seeds.jsonl" "$OUT/curated.jsonl" > "$OUT/train1.jsonl"
camelid train --task sft "$OUT/train1.jsonl" --humpback-tags --model "$MODEL" \
  ${steps[@]+"${steps[@]}"} -o "$OUT/m1"
camelid score "$OUT/augmented.jsonl" --rubric humpback --model "$OUT/m1" --seed 0 \
  ${local[@]+"${local[@]}"} -o "$OUT/scored2.jsonl"
camelid filter "$OUT/scored2.jsonl" "${curate[@]}" -o "$OUT/curated2.jsonl"

echo "humpback: $(wc -l < "$OUT/augmented.jsonl") augmented, $(wc -l < "$OUT/curated.jsonl") kept by M0, $(wc -l < "$OUT/curated2.jsonl") by M1" >&2
