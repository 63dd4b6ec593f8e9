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
.venv/bin/python -m pip install -q -e ".[dev]"
