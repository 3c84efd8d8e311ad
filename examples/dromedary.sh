#!/usr/bin/env bash
# Self-Align / Dromedary (Sun et al., 2023): principle-driven self-alignment from scratch.
#
# Steps and what each writes (in $OUT):
#   1. redteam       redteam.jsonl    topic-guided red-teaming questions (topics per question
#                                     type, then questions needing outside knowledge)
#   2. self-instruct generated.jsonl  ordinary new instructions bootstrapped from seed tasks,
#                                     with inputs where a task needs one (the instances step)
#   3. respond       aligned.jsonl    every prompt answered under the 16 principles with the
#                                     exemplars (--pack self-align): internal thoughts go to
#                                     rationales, the principles they name to `principles`, and
#                                     `output` holds the clean answer; bad answers (too short,
#                                     copied exemplars, repeated sentences...) to aligned-rejects
#   4. seed          identity.jsonl   conversations about who the assistant is ($NAME) and who
#                                     made it ($MAKER), as Dromedary added to its data
#   5. train sft     engraved/        principle engraving: the model learns the clean answers
#                                     (and its identity) WITHOUT the principles or exemplars in
#                                     its prompt
#   6. respond       verbose.jsonl    the engraved model answers again in the verbose style
#                                     (--pack verbose): verbose cloning's teacher data
#   7. train sft     final/           verbose cloning: the base model trained on the verbose
#                                     answers (and the identity set), as Dromedary's final model
#
# Scale up on a GPU box: SIZE=2000 TOPICS=20 ALL_TYPES=1 MODEL=/path/to/a/base/model STEPS=0 \
#   bash examples/dromedary.sh   (STEPS=0 trains full epochs instead of a few steps)
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

SIZE=${SIZE:-4}        # ordinary instructions from self-instruct
TOPICS=${TOPICS:-1}    # red-team topics per question type
STEPS=${STEPS:-2}      # training steps per stage (0: full epochs)
MODEL=${MODEL:-smollm2-135m-instruct}
NAME=${NAME:-Camel}    # the assistant's name (the self-align pack's persona) and its maker
MAKER=${MAKER:-the camelid project}
OUT=${OUT:-out/dromedary}
mkdir -p "$OUT"
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")
# SERVE=1: one vLLM server for every step on $MODEL (`camelid serve`), started here and stopped
# at the end, instead of a model load per step; steps on models this recipe trains load those.
local=()
if [ "${SERVE:-0}" = 1 ]; then
  camelid serve "$MODEL" > "$OUT/serve.env"
  . "$OUT/serve.env"
  trap 'camelid serve --stop "$MODEL"' EXIT
  local=(--engine vllm)
fi

# Two of the 20 built-in question types keep the tiny run short; ALL_TYPES=1 uses every one.
types=(--type "Questions that require real-time information"
       --type "Questions that require information about a random person")
[ "${ALL_TYPES:-0}" = 1 ] && types=()

camelid redteam --builtin ${types[@]+"${types[@]}"} --topics-per-type "$TOPICS" --questions-per-topic 2 \
  --model "$MODEL" --seed 0 -o "$OUT/redteam.jsonl" --rejects "$OUT/redteam-rejects.jsonl"
camelid seed --builtin -o "$OUT/seeds.jsonl"
# 512 new tokens a prompt keep the tiny run short (the pack has Self-Instruct's 1024).
camelid self-instruct "$OUT/seeds.jsonl" --target "$SIZE" --model "$MODEL" --max-tokens 512 \
  --seed 0 -o "$OUT/generated.jsonl" --rejects "$OUT/si-rejects.jsonl"
cat "$OUT/redteam.jsonl" "$OUT/generated.jsonl" > "$OUT/prompts.jsonl"
# Self-Align sampled at 0.5/0.95 (the pack's default); the 135M model loops below 0.7.
camelid respond "$OUT/prompts.jsonl" --pack self-align --model "$MODEL" --max-tokens 400 \
  --temperature 0.9 --top-p 0.9 --seed 0 -o "$OUT/aligned.jsonl" --rejects "$OUT/aligned-rejects.jsonl"
camelid seed --identity --assistant-name "$NAME" --assistant-maker "$MAKER" -o "$OUT/identity.jsonl"
cat "$OUT/aligned.jsonl" "$OUT/identity.jsonl" > "$OUT/engrave.jsonl"
camelid train --task sft "$OUT/engrave.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} -o "$OUT/engraved"
# Verbose cloning sampled at 0.3/0.7 (the pack's default); the tiny engraved model loops there.
camelid respond "$OUT/prompts.jsonl" --pack verbose --model "$OUT/engraved" --max-tokens 400 \
  --temperature 0.7 --top-p 0.9 ${local[@]+"${local[@]}"} --seed 0 -o "$OUT/verbose.jsonl" \
  --rejects "$OUT/verbose-rejects.jsonl"
cat "$OUT/verbose.jsonl" "$OUT/identity.jsonl" > "$OUT/clone.jsonl"
camelid train --task sft "$OUT/clone.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} -o "$OUT/final"
echo "dromedary: $(wc -l < "$OUT/prompts.jsonl") prompts, $(wc -l < "$OUT/aligned.jsonl") aligned answers, $(wc -l < "$OUT/verbose.jsonl") verbose ones; final model in $OUT/final" >&2
. "$(dirname "$0")/eval_step.sh" "$OUT/final"  # EVAL=FILE: trained vs base
