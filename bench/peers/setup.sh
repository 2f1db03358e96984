#!/usr/bin/env bash
# Creates the peers' virtual environments. Idempotent: re-running only checks.
#   bash bench/peers/setup.sh         .venv: torch (CPU use), snntorch, spikingjelly, norse
#   bash bench/peers/setup.sh sim     .venv-sim: Brian2 (its C++ standalone needs g++). Brian2
#                                     2.9 calls numpy.ndarray.ptp, removed in numpy 2.4, so that
#                                     environment pins numpy below 2.4, away from the others.
#   bash bench/peers/setup.sh nest    .venv-nest: NEST 3.10 (PyPI wheel; CPython 3.11 here)
# PyPI's torch wheel for Linux pulls the CUDA runtime packages too (a few GB); they are unused on CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-train}" in
  train) venv="$here/.venv"; packages=(torch snntorch spikingjelly norse numpy); check="import torch, snntorch, spikingjelly; print('torch', torch.__version__, 'snntorch', snntorch.__version__)" ;;
  sim) venv="$here/.venv-sim"; packages=(brian2 "numpy<2.4"); check="import brian2; print('brian2', brian2.__version__)" ;;
  nest) venv="$here/.venv-nest"; packages=(nest-simulator); check="import nest; print('nest', nest.__version__)" ;;
  *) echo "usage: setup.sh [train|sim|nest]" >&2; exit 2 ;;
esac
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "${packages[@]}"
"$venv/bin/python" -c "$check"
