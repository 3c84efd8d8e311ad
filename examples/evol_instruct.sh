#!/usr/bin/env bash
# Evol-Instruct (WizardLM; Xu et al., 2023): grow harder and rarer instructions from a seed set
# by asking a model to rewrite them, round after round, and eliminating failed rewrites.
#
# Steps and what each writes (in $OUT):
#   1. seed     seeds.jsonl      the seed instructions as camelid records ($SEEDS, any format
#                                `camelid seed` reads; camelid's built-in tasks when empty),
#                                $SIZE of them
#   2. evolve   evolved.jsonl    $ROUNDS rounds; each rewrites every survivor of the round before
#                                with one operation drawn at random (seeded by the record):
#                                in-depth (add a constraint, deepen, make concrete, more reasoning
#                                steps, complicate the input) or in-breadth (a new, rarer task of
#                                the same domain). Each record keeps `parent` (the id it evolved
#                                from) and the operation in `tags` and its lineage; with
#                                --respond its answer (written anyway for the elimination check)
#                                is its `output`, and --keep-originals adds the seeds themselves
#                                as WizardLM's final set did.
#                   rejects.jsonl    every eliminated evolution and its reason: no information
#                                gain (the model judges it equal to its parent), unanswerable
#                                (the answer says sorry in under 80 words, or is a word or two),
#                                prompt leakage ("given prompt", "#Rewritten Prompt#", ...), only
#                                punctuation and stop words
#                   stats.json       per round: parents, evolutions kept, drops per reason
#
# Scale up on a GPU box: SIZE=52000 ROUNDS=4 MODEL=/path/to/a/strong/instruct/model
# bash examples/evol_instruct.sh (WizardLM evolved Alpaca's 52k instructions 4 times with
# ChatGPT, keeping the originals: 250k). Add --resume to step 2 to continue a stopped run.
set -euo pipefail

SIZE=${SIZE:-4}
ROUNDS=${ROUNDS:-2}
MODEL=${MODEL:-smollm2-135m-instruct}
SEEDS=${SEEDS:-}
OUT=${OUT:-out/evol_instruct}
mkdir -p "$OUT"

if [ -n "$SEEDS" ]; then
  camelid seed "$SEEDS" --limit "$SIZE" -o "$OUT/seeds.jsonl"
else
  camelid seed --builtin --limit "$SIZE" -o "$OUT/seeds.jsonl"
fi
# The pack samples rewrites as WizardLM did (temperature 1.0, top-p 0.95); the tiny default
# model writes gibberish at 1.0, so TEMPERATURE is 0.7 here (set 1.0 with a strong model).
# Answers are cut at 256 tokens to keep the tiny run short; drop --answer-max-tokens for more.
# The equality judge is asked twice, "yes" named first and then "no"; only two "yes" drop an
# evolution. The tiny model names whichever option comes first (asked once, it judged 8 of 8
# test pairs equal, or 8 of 8 unequal with the order swapped), so here its votes split and it
# drops nothing: a strong judge is what makes that check mean something.
camelid evolve "$OUT/seeds.jsonl" --rounds "$ROUNDS" --respond --keep-originals \
  --model "$MODEL" --seed 0 --temperature "${TEMPERATURE:-0.7}" --answer-max-tokens 256 \
  -o "$OUT/evolved.jsonl" --rejects "$OUT/rejects.jsonl" --stats "$OUT/stats.json"

echo "evol_instruct: $(wc -l < "$OUT/evolved.jsonl") records (seeds and evolutions) in" \
  "$OUT/evolved.jsonl, $(wc -l < "$OUT/rejects.jsonl") eliminated" >&2
