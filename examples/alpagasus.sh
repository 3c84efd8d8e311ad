#!/usr/bin/env bash
# AlpaGasus (Chen et al., 2024): "less data, better model": an instruction dataset rated by an
# LLM judge for the accuracy of each answer (0-5), only the pairs rated 4.5 or more kept, then
# fine-tuning on that small share (9k of Alpaca's 52k in the paper).
#
# Steps and what each writes (in $OUT):
#   1. seed    data.jsonl       the instruction dataset ($DATA: Alpaca JSON/JSONL or anything
#                               `camelid seed` reads; camelid's built-in tasks when empty)
#   2. score   scored.jsonl     the AlpaGasus rubric: scores.accuracy 0-5 with its rationale;
#                               the judge audited against answers to other tasks (stderr,
#                               score-stats.json)
#   3. filter  selected.jsonl   the pairs rated at least $MIN_SCORE (the paper's 4.5), the rest
#                               with their reason in filter-rejects.jsonl
#   4. train   sft/             supervised fine-tuning on the selected pairs
#
# Scale up on a GPU box: DATA=alpaca_data.json JUDGE=/path/to/a/strong/judge \
#   MODEL=/path/to/base STEPS=0 bash examples/alpagasus.sh
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

MODEL=${MODEL:-smollm2-135m-instruct}
JUDGE=${JUDGE:-$MODEL}
DATA=${DATA:-}
SIZE=${SIZE:-8}
STEPS=${STEPS:-2}        # training steps (0: full epochs)
# The paper kept ratings of 4.5 and more. The tiny default judge seldom rates that high, so
# unless MIN_SCORE is given the tiny run keeps the best half by the same rating.
MIN_SCORE=${MIN_SCORE:-}
select=(--top 50% --top-by accuracy); [ -n "$MIN_SCORE" ] && select=(--min-score "accuracy=$MIN_SCORE")
OUT=${OUT:-out/alpagasus}
mkdir -p "$OUT"
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")

if [ -n "$DATA" ]; then
  camelid seed "$DATA" --limit "$SIZE" -o "$OUT/data.jsonl"
else
  camelid seed --builtin --shuffle --seed 0 --limit "$SIZE" -o "$OUT/data.jsonl"
fi
camelid score "$OUT/data.jsonl" --rubric alpagasus --model "$JUDGE" --seed 0 \
  -o "$OUT/scored.jsonl" --stats "$OUT/score-stats.json"
camelid filter "$OUT/scored.jsonl" "${select[@]}" -o "$OUT/selected.jsonl" \
  --rejects "$OUT/filter-rejects.jsonl"
camelid train --task sft "$OUT/selected.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} -o "$OUT/sft"
echo "alpagasus: $(wc -l < "$OUT/selected.jsonl") of $(wc -l < "$OUT/data.jsonl") pairs selected; model in $OUT/sft" >&2
. "$(dirname "$0")/eval_step.sh" "$OUT/sft"  # EVAL=FILE: trained vs base
