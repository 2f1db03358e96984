#!/usr/bin/env bash
# Creates bench/peers/.venv with the peer libraries (CPU). Idempotent: re-running only checks.
# PyPI's torch wheel for Linux pulls the CUDA runtime packages too (a few GB); they are unused on CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch snntorch spikingjelly norse numpy
"$venv/bin/python" -c "import torch, snntorch, spikingjelly; print('torch', torch.__version__, 'snntorch', snntorch.__version__)"
