#!/usr/bin/env bash
# LIMA (Zhou et al., 2023): "less is more for alignment": a small set of carefully chosen,
# diverse examples in one consistent assistant style (1,000 in the paper) fine-tunes a model as
# well as far larger sets. Here the curation is done on an existing dataset.
#
# Steps and what each writes (in $OUT):
#   1. seed    pool.jsonl       the pool to curate from ($DATA: any format `camelid seed` reads;
#                               camelid's built-in tasks when empty)
#   2. score   scored.jsonl     quality and assistant style: Humpback's 1-5 rubric (its top marks
#                               go to answers written as an AI assistant would, directly and
#                               completely); the judge is audited (score-stats.json)
#   3. filter  styled.jsonl     one consistent style: answers of at least $MIN_WORDS words,
#                               without refusals or disclaimers
#   4. dedup   diverse.jsonl    diversity: instructions clustered by meaning (sentence
#                               embeddings); the best-scored of each cluster kept
#   5. filter  lima.jsonl       the best $SIZE of them by quality (the paper's 1,000)
#   6. train   sft/             supervised fine-tuning on the final set
#
# Scale up on a GPU box: DATA=pool.jsonl SIZE=1000 MODEL=/path/to/base STEPS=0 bash examples/lima.sh
# Did it help? EVAL=held-out.jsonl ends the run with `camelid eval` of the trained model
# against its base (examples/eval_step.sh).
set -euo pipefail

MODEL=${MODEL:-smollm2-135m-instruct}
DATA=${DATA:-}
POOL=${POOL:-10}          # records read from $DATA (or the built-in tasks)
SIZE=${SIZE:-4}           # the final set
MIN_WORDS=${MIN_WORDS:-3}
STEPS=${STEPS:-2}
OUT=${OUT:-out/lima}
mkdir -p "$OUT"
steps=(); [ "$STEPS" -gt 0 ] && steps=(--max-steps "$STEPS")

if [ -n "$DATA" ]; then
  camelid seed "$DATA" --limit "$POOL" -o "$OUT/pool.jsonl"
else
  camelid seed --builtin --shuffle --seed 0 --limit "$POOL" -o "$OUT/pool.jsonl"
fi
camelid score "$OUT/pool.jsonl" --rubric humpback --model "$MODEL" --seed 0 \
  -o "$OUT/scored.jsonl" --stats "$OUT/score-stats.json"
camelid filter "$OUT/scored.jsonl" --min-words "$MIN_WORDS" \
  --blacklist "as an ai,as a language model,i'm sorry,i cannot,i can't help" \
  --blacklist-field output -o "$OUT/styled.jsonl" --rejects "$OUT/style-rejects.jsonl"
camelid dedup "$OUT/styled.jsonl" --method embedding --keep best-score --keep-aspect quality \
  -o "$OUT/diverse.jsonl" --rejects "$OUT/dedup-rejects.jsonl"
camelid filter "$OUT/diverse.jsonl" --top "$SIZE" --top-by quality -o "$OUT/lima.jsonl" \
  --rejects "$OUT/top-rejects.jsonl"
camelid train --task sft "$OUT/lima.jsonl" --model "$MODEL" ${steps[@]+"${steps[@]}"} -o "$OUT/sft"
echo "lima: $(wc -l < "$OUT/lima.jsonl") of $(wc -l < "$OUT/pool.jsonl") examples kept; model in $OUT/sft" >&2
. "$(dirname "$0")/eval_step.sh" "$OUT/sft"  # EVAL=FILE: trained vs base
