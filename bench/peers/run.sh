#!/usr/bin/env bash
# Training throughput and peak memory of spikelab and the peers (snnTorch, SpikingJelly, Norse)
# on the identical configs in bench/configs/, in one run on this machine: same thread count,
# rounds interleaved (this machine's speed drifts), medians compared. Prints one table.
#   bash bench/peers/run.sh [rounds] [config names...]     (default: 3 rounds, every config)
# THREADS (default 2) sets the thread count of every library.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
shift || true
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(mlp-small mlp-sparse mlp-long mlp-wide conv)
threads=${THREADS:-2}
bash "$root/bench/peers/setup.sh" >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
python="$root/bench/peers/.venv/bin/python"
results=$(mktemp)
for round in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    file="$root/bench/configs/$c.toml"
    "$root/target/release/spikelab" bench train --config "$file" --threads "$threads" --json 2>/dev/null \
      | tail -1 | sed "s/^{/{\"library\": \"spikelab\", \"name\": \"$c\", /" | tee -a "$results"
    for lib in snntorch spikingjelly norse; do
      THREADS=$threads "$python" -W ignore "$root/bench/peers/bench.py" throughput "$lib" "$file" \
        | sed "s/^{/{\"name\": \"$c\", /" | tee -a "$results"
    done
  done
done >&2
python3 "$root/bench/peers/table.py" "$results"
rm -f "$results"
