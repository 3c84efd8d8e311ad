# Sourced by the training recipes as their last step: did the data help?
#   . "$(dirname "$0")/eval_step.sh" TRAINED_MODEL_DIR
# With EVAL=FILE (held-out prompts: any file `camelid seed` reads, none of them in the training
# data), the trained model and its base ($MODEL) answer the first $EVAL_SIZE prompts, the judge
# ($EVAL_JUDGE, default $MODEL; a strong one is what makes the verdict mean something) compares
# each pair in both orders, and `camelid eval` prints the win rate of the trained model with its
# 95% interval. Writes heldout.jsonl, eval.jsonl (every judgement) and eval.json (the figures).
# In-process vLLM even under SERVE=1: the trained model is not on the server.
if [ -n "${EVAL:-}" ]; then
  camelid seed "$EVAL" --limit "${EVAL_SIZE:-20}" -o "$OUT/heldout.jsonl"
  camelid eval "$OUT/heldout.jsonl" --engine vllm --model "trained=$1" --model "base=$MODEL" \
    --judge "${EVAL_JUDGE:-$MODEL}" --max-tokens "${EVAL_MAX_TOKENS:-256}" --seed 0 \
    -o "$OUT/eval.jsonl" --stats "$OUT/eval.json"
fi
