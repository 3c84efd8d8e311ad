#!/usr/bin/env bash
# Quickstart — the README's main job: camelid's built-in seed tasks to a small curated dataset
# of instruction/answer pairs, written and judged by the default model (SmolLM2-135M-Instruct,
# on vLLM). Quality over quantity (LIMA, Humpback): answers are scored, the best kept, and
# near-duplicates dropped.
#
# Steps and what each writes (in $OUT):
#   1. seed     seeds.jsonl     built-in seed tasks as camelid records (instruction, input, output)
#   2. respond  answers.jsonl   each instruction answered by the model (output, lineage); answers
#                               cut off at --max-tokens go to respond-rejects.jsonl with the reason
#   3. score    scored.jsonl    each answer judged with Humpback's 1-5 rubric: scores.quality is
#                               the rating expected under the judge's probabilities (the written
#                               one in ratings.quality), rationales.quality its reasoning; the
#                               judge is audited on answers to other tasks (AUC on stderr and in
#                               score-stats.json: 0.5 would mean it tells nothing apart)
#   4. filter   filtered.jsonl  the best $TOP of the answers by that score (a small judge's
#                               scale means little, its order more); the others go to
#                               filter-rejects.jsonl, counts per reason to stats.json
#   5. dedup    dataset.jsonl   near-duplicate instructions dropped (MinHash; one per cluster
#                               kept, the best scored); the dropped ones to dedup-rejects.jsonl
#
# Scale up on a GPU box: SIZE=1000 MODEL=/path/to/an/instruct/model TOP=30% \
#   bash examples/quickstart.sh   (MODEL: a built-in name, a local model directory or a hub id)
set -euo pipefail

SIZE=${SIZE:-12}
MODEL=${MODEL:-smollm2-135m-instruct}
TOP=${TOP:-50%}
OUT=${OUT:-out/quickstart}
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

camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/seeds.jsonl"
camelid respond "$OUT/seeds.jsonl" --model "$MODEL" --pack plain --max-tokens 512 --seed 0 \
  -o "$OUT/answers.jsonl" --rejects "$OUT/respond-rejects.jsonl"
camelid score "$OUT/answers.jsonl" --rubric humpback --model "$MODEL" --seed 0 \
  -o "$OUT/scored.jsonl" --stats "$OUT/score-stats.json"
camelid filter "$OUT/scored.jsonl" --top "$TOP" --top-by quality \
  -o "$OUT/filtered.jsonl" --rejects "$OUT/filter-rejects.jsonl" --stats "$OUT/stats.json"
camelid dedup "$OUT/filtered.jsonl" --keep best-score -o "$OUT/dataset.jsonl" \
  --rejects "$OUT/dedup-rejects.jsonl" --stats "$OUT/dedup-stats.json"

audit=$(python3 -c 'import json, sys
a = json.load(open(sys.argv[1])).get("audit", {}).get("mismatched")
print("; the judge rated real answers above answers to other tasks with AUC %.2f" % a["auc"] if a else "")' "$OUT/score-stats.json")
echo "quickstart: $(wc -l < "$OUT/dataset.jsonl") of $SIZE records kept in $OUT/dataset.jsonl$audit" >&2
