#!/usr/bin/env bash
# Magpie (Xu et al., 2024, "Magpie: Alignment Data Synthesis from Scratch by Prompting Aligned
# LLMs with Nothing"): an aligned chat model is given only its chat template's text up to where
# a user message begins, and writes a user query; the same model then answers it. No seeds.
#
# Steps and what each writes (in $OUT):
#   1. magpie   magpie.jsonl    $SIZE queries, each written from the pre-query text (taken from
#                               the model's own chat template, stopped at its end-of-turn text;
#                               temperature 1, top-p 1 as the paper), answered by the same model
#                               (`output`; `messages` with TURNS=2+); each query's quality rated
#                               1-5 by the magpie-quality judge. Dropped: too short or long,
#                               not English (ASCII share), looping (repeated 4-grams or lines),
#                               rated below --min-quality; every drop and its reason in
#                               rejects.jsonl, the counts per reason in stats.json
#   2. dedup    dataset.jsonl   near-duplicate queries removed (sampled queries repeat often)
#   SYSTEM="..." steers the domain through the system prompt; TURNS=2 asks follow-ups.
#
# Scale up on a GPU box: SIZE=300000 MODEL=meta-llama/Meta-Llama-3-8B-Instruct bash
# examples/magpie.sh (Magpie-Pro used Llama-3-70B-Instruct; any chat model whose chat template
# camelid can read works). The 135M default judge's ratings mean little: rate with a larger
# model (`camelid score --rubric magpie-quality --model BIG`) for curation that matters. Add
# --resume to step 1 to continue a stopped run.
set -euo pipefail

SIZE=${SIZE:-16}
MODEL=${MODEL:-smollm2-135m-instruct}
TURNS=${TURNS:-1}
SYSTEM=${SYSTEM:-}
OUT=${OUT:-out/magpie}
mkdir -p "$OUT"
steer=()
if [ -n "$SYSTEM" ]; then
  steer=(--system "$SYSTEM")
fi

# The tiny default model loops in long answers: 256 tokens keeps a small run quick. Its judge
# rated every query 1.2-1.6 (expected rating), good ones too, so Magpie's "average or better"
# (--min-quality 3, the command's default) would keep nothing: MIN_QUALITY=1 here; use 3 with a
# real judge model.
camelid magpie --n "$SIZE" --model "$MODEL" --turns "$TURNS" "${steer[@]}" --seed 0 \
  --min-quality "${MIN_QUALITY:-1}" --answer-max-tokens "${ANSWER_TOKENS:-256}" \
  -o "$OUT/magpie.jsonl" \
  --rejects "$OUT/rejects.jsonl" --stats "$OUT/stats.json"
camelid dedup "$OUT/magpie.jsonl" -o "$OUT/dataset.jsonl" --rejects "$OUT/dedup-rejects.jsonl"

echo "magpie: $(wc -l < "$OUT/dataset.jsonl") of $SIZE queries kept in $OUT/dataset.jsonl" >&2
