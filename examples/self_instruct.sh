#!/usr/bin/env bash
# Self-Instruct (Wang et al., 2023) and Alpaca (Taori et al., 2023): bootstrap new instructions
# from a small pool of human-written seed tasks, keeping only those unlike everything in the pool.
#
# Steps and what each writes (in $OUT):
#   1. seed           seeds.jsonl      the seed tasks as camelid records ($SEEDS, a Self-Instruct
#                                      seed_tasks.jsonl or any format `camelid seed` reads;
#                                      camelid's built-in tasks when empty)
#   2. self-instruct  generated.jsonl  $SIZE new instructions: each prompt shows 6 seed and 2
#                                      generated tasks, candidates pass Self-Instruct's filters
#                                      and a ROUGE-L of at most 0.7 to every instruction in the
#                                      pool (dropped when above), then get instances
#                                      (input-first, or output-first for classification tasks);
#                                      every dropped candidate and its reason in si-rejects.jsonl
#   3. dedup          dataset.jsonl    a last near-duplicate pass over instruction + input
#   With PACK=alpaca step 2 follows Alpaca instead: one prompt asks for a batch of 20 complete
#   tasks (instruction, input or <noinput>, output).
#
# Scale up on a GPU box: SIZE=52000 MODEL=/path/to/a/base/model bash examples/self_instruct.sh
# (Self-Instruct used a base model — GPT-3 — for every step; `gemma3-270m` is the built-in base
# model here. Add --resume to step 2 to continue a stopped run.)
set -euo pipefail

SIZE=${SIZE:-10}
MODEL=${MODEL:-smollm2-135m-instruct}
PACK=${PACK:-self-instruct}
SEEDS=${SEEDS:-}
OUT=${OUT:-out/self_instruct}
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

if [ -n "$SEEDS" ]; then
  camelid seed "$SEEDS" -o "$OUT/seeds.jsonl"
else
  camelid seed --builtin -o "$OUT/seeds.jsonl"
fi
camelid self-instruct "$OUT/seeds.jsonl" --pack "$PACK" --target "$SIZE" --model "$MODEL" \
  --seed 0 -o "$OUT/generated.jsonl" --rejects "$OUT/si-rejects.jsonl"
camelid dedup "$OUT/generated.jsonl" -o "$OUT/dataset.jsonl" --rejects "$OUT/dedup-rejects.jsonl"

echo "self_instruct: $(wc -l < "$OUT/dataset.jsonl") new tasks in $OUT/dataset.jsonl" >&2
