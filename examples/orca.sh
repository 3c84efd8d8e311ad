#!/usr/bin/env bash
# Orca (Mukherjee et al., 2023): "progressive learning from complex explanation traces". A
# student imitates not just a teacher's answers but its reasoning: every task is sent to the
# teacher under a system message that asks for an explanation (think step by step, explain as
# to a five-year-old, give the answer and why the other options are wrong, show how the task's
# definition was used...), and the student is fine-tuned on the answer with that same system
# message. The paper drew 5M FLAN-v2 tasks (CoT, NIv2, T0, FLAN-2021), answered first by ChatGPT
# and then 1M of them by GPT-4, with its 16 system messages chosen by task collection.
#
# Steps and what each writes (in $OUT):
#   1. seed     tasks.jsonl      the tasks ($DATA: FLAN-style data or anything `camelid seed`
#                                reads; camelid's built-in tasks when empty)
#   2. respond  explained.jsonl  the teacher's explained answers (`--pack explain`): each task
#                                gets one of the pack's 16 system messages (our own wording,
#                                prompts/explain/system_messages.yaml), drawn per task among
#                                those that suit its kind (multiple choice, reasoning,
#                                translation, a definition with an input, any) and fixed by
#                                --seed; the message is in `system`, its name in
#                                `system_message` and the lineage; tasks left unanswered (or cut
#                                off at --max-tokens) in respond-rejects.jsonl
#   3. train    sft/             the student fine-tuned on the explained answers, each prompt
#                                with its record's `system` (what the teacher was shown)
#
# Scale up: the teacher should be far stronger than the student. On a GPU box, serve it once and
# answer through the server (SERVE=1 runs `camelid serve "$TEACHER"` for the respond step):
#   SERVE=1 DATA=flan.jsonl SIZE=100000 TEACHER=/path/to/a/strong/model \
#     MODEL=/path/to/the/student STEPS=0 MAX_TOKENS=2048 bash examples/orca.sh
# or use any OpenAI-compatible server (a hosted teacher; key in $OPENAI_API_KEY):
#   CAMELID_ENGINE=openai CAMELID_BASE_URL=https://host/v1 TEACHER=teacher-model-name ...
# Orca's progressive learning is two runs: a first, cheaper teacher on many tasks, then the
# stronger one on fewer, training from the first run's model (MODEL=out/orca-1/sft).
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

MODEL=${MODEL:-smollm2-135m-instruct}   # the student
TEACHER=${TEACHER:-$MODEL}               # the tiny default run: the model teaches itself
DATA=${DATA:-}
SIZE=${SIZE:-8}
STEPS=${STEPS:-2}        # training steps (0: full epochs)
# The pack allows 1024 tokens for an explanation. The tiny default teacher rambles until cut
# off, and a cut-off answer is dropped, so the tiny run asks for less unless MAX_TOKENS is given.
MAX_TOKENS=${MAX_TOKENS:-256}
OUT=${OUT:-out/orca}
mkdir -p "$OUT"
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")

# SERVE=1: the teacher behind one vLLM server (`camelid serve`), stopped at the end.
if [ "${SERVE:-0}" = 1 ]; then
  camelid serve "$TEACHER" > "$OUT/serve.env"
  . "$OUT/serve.env"
  trap 'camelid serve --stop "$TEACHER"' EXIT
fi

if [ -n "$DATA" ]; then
  camelid seed "$DATA" --limit "$SIZE" -o "$OUT/tasks.jsonl"
else
  camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/tasks.jsonl"
fi
camelid respond "$OUT/tasks.jsonl" --pack explain --model "$TEACHER" --seed 0 \
  --max-tokens "$MAX_TOKENS" -o "$OUT/explained.jsonl" --rejects "$OUT/respond-rejects.jsonl" \
  --stats "$OUT/respond-stats.json"
camelid train --task sft "$OUT/explained.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} \
  -o "$OUT/sft"
echo "orca: $(wc -l < "$OUT/explained.jsonl") of $(wc -l < "$OUT/tasks.jsonl") tasks explained; model in $OUT/sft" >&2
. "$(dirname "$0")/eval_step.sh" "$OUT/sft"  # EVAL=FILE: trained vs base
