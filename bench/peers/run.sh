#!/usr/bin/env bash
# Training-throughput comparison on the baseline config (784-800-10 LIF, T = 25, batch 128,
# Bernoulli 0.2 input, Adam): spikelab, snnTorch and SpikingJelly in one run on this machine,
# same thread count, rounds interleaved (this machine's speed drifts), medians compared.
#   bash bench/peers/run.sh [batches per measurement] [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
batches=${1:-100}
rounds=${2:-5}
threads=${THREADS:-2}
bash "$root/bench/peers/setup.sh" >&2
cargo build --release --example throughput --manifest-path "$root/Cargo.toml" >&2
results=$(mktemp)
for round in $(seq "$rounds"); do
  RAYON_NUM_THREADS=$threads "$root/target/release/examples/throughput" "$batches" | tee -a "$results"
  THREADS=$threads "$root/bench/peers/.venv/bin/python" "$root/bench/peers/throughput.py" all "$batches" | tee -a "$results"
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault(r["library"], []).append(r["samples_per_second"])
base = statistics.median(by["spikelab"])
print(f"\n{'library':<14}{'median samples/s':>18}{'min':>10}{'max':>10}{'spikelab is':>14}")
for lib, v in by.items():
    m = statistics.median(v)
    print(f"{lib:<14}{m:>18.1f}{min(v):>10.1f}{max(v):>10.1f}{base / m:>13.2f}x")
PY
rm -f "$results"
