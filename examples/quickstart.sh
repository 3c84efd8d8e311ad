#!/usr/bin/env bash
# Quickstart — the README's main job: camelid's built-in seed tasks to a small dataset of
# instruction/answer pairs written by the default model (SmolLM2-135M-Instruct, on vLLM).
#
# Steps and what each writes (in $OUT):
#   1. seed     seeds.jsonl    built-in seed tasks as camelid records (instruction, input, output)
#   2. respond  dataset.jsonl  each instruction answered by the model (output, lineage);
#                              answers cut off at --max-tokens go to rejects.jsonl with the reason
#
# Scale up on a GPU box: SIZE=1000 MODEL=meta-llama/Llama-3.1-8B-Instruct bash examples/quickstart.sh
# (any local model directory or hub id the machine can load works as MODEL).
set -euo pipefail

SIZE=${SIZE:-12}
MODEL=${MODEL:-smollm2-135m-instruct}
OUT=${OUT:-out/quickstart}
mkdir -p "$OUT"

camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/seeds.jsonl"
camelid respond "$OUT/seeds.jsonl" --model "$MODEL" --pack plain --max-tokens 256 --seed 0 \
  -o "$OUT/dataset.jsonl" --rejects "$OUT/rejects.jsonl"

echo "quickstart: $(wc -l < "$OUT/dataset.jsonl") records in $OUT/dataset.jsonl" >&2
