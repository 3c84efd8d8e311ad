#!/usr/bin/env bash
# Quickstart — the README's main job: camelid's built-in seed tasks to a small curated dataset
# of instruction/answer pairs, written and judged by the default model (SmolLM2-135M-Instruct,
# on vLLM). Quality over quantity (LIMA, Humpback): answers are scored, only good ones
# kept, and near-duplicates dropped.
#
# Steps and what each writes (in $OUT):
#   1. seed     seeds.jsonl     built-in seed tasks as camelid records (instruction, input, output)
#   2. respond  answers.jsonl   each instruction answered by the model (output, lineage); answers
#                               cut off at --max-tokens go to respond-rejects.jsonl with the reason
#   3. score    scored.jsonl    each answer judged with Humpback's 1-5 rubric (scores.quality,
#                               rationales.quality)
#   4. filter   filtered.jsonl  the answers scoring at least $MIN_QUALITY; the others go to
#                               filter-rejects.jsonl, counts per reason to stats.json
#   5. dedup    dataset.jsonl   near-duplicate instructions dropped (MinHash; one per cluster
#                               kept, the best scored); the dropped ones to dedup-rejects.jsonl
#
# Scale up on a GPU box: SIZE=1000 MODEL=/path/to/an/instruct/model MIN_QUALITY=4 \
#   bash examples/quickstart.sh   (MODEL: a built-in name, a local model directory or a hub id)
set -euo pipefail

SIZE=${SIZE:-12}
MODEL=${MODEL:-smollm2-135m-instruct}
MIN_QUALITY=${MIN_QUALITY:-3}
OUT=${OUT:-out/quickstart}
mkdir -p "$OUT"

camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/seeds.jsonl"
camelid respond "$OUT/seeds.jsonl" --model "$MODEL" --pack plain --max-tokens 256 --seed 0 \
  -o "$OUT/answers.jsonl" --rejects "$OUT/respond-rejects.jsonl"
camelid score "$OUT/answers.jsonl" --rubric humpback --model "$MODEL" --seed 0 \
  -o "$OUT/scored.jsonl"
camelid filter "$OUT/scored.jsonl" --min-score "quality=$MIN_QUALITY" \
  -o "$OUT/filtered.jsonl" --rejects "$OUT/filter-rejects.jsonl" --stats "$OUT/stats.json"
camelid dedup "$OUT/filtered.jsonl" --keep best-score -o "$OUT/dataset.jsonl" \
  --rejects "$OUT/dedup-rejects.jsonl" --stats "$OUT/dedup-stats.json"

echo "quickstart: $(wc -l < "$OUT/dataset.jsonl") of $SIZE records kept in $OUT/dataset.jsonl" >&2
