#!/usr/bin/env bash
# Test accuracy after one epoch of MNIST on the mlp-small network: spikelab
# (experiments/mlp-small-mnist.toml) against snnTorch and SpikingJelly on the same config.
#   bash bench/peers/accuracy.sh DATA_DIR [seeds]     (DATA_DIR holds mnist/*-ubyte.gz)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:?give the data directory (e.g. ../shared/data)}
seeds=${2:-1}
threads=${THREADS:-2}
config="$root/experiments/mlp-small-mnist.toml"
bash "$root/bench/peers/setup.sh" >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
for seed in $(seq "$seeds"); do
  "$root/target/release/spikelab" run "$config" --data-dir "$data" --seed "$seed" --threads "$threads" --json 2>/dev/null | tail -1 \
    | python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'library': 'spikelab', 'seed': $seed, 'test_accuracy': d['test_accuracy'], 'train_seconds': d['train_seconds']}))"
  for lib in snntorch spikingjelly; do
    THREADS=$threads "$root/bench/peers/.venv/bin/python" -W ignore "$root/bench/peers/bench.py" accuracy "$lib" "$config" --data-dir "$data" --seed "$seed" \
      | python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'library': d['library'], 'seed': $seed, 'test_accuracy': d['test_accuracy'], 'train_seconds': d['train_seconds']}))"
  done
done
