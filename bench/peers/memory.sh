#!/usr/bin/env bash
# BPTT memory growth with time steps on the mlp-long net: peak RSS at T = 100 and T = 400 for
# spikelab and each peer (one process per measurement), and the growth per sample-step,
# (peak(400) − peak(100)) / (300 · batch), in which each runtime's baseline cancels.
#   bash bench/peers/memory.sh [batches]     (default 10 timed batches per measurement)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
batches=${1:-10}
threads=${THREADS:-2}
config="$root/bench/configs/mlp-long.toml"
bash "$root/bench/peers/setup.sh" >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
results=$(mktemp)
for steps in 100 400; do
  "$root/target/release/spikelab" bench train --config "$config" --time-steps "$steps" --batches "$batches" --threads "$threads" --json 2>/dev/null \
    | tail -1 | sed 's/^{/{"library": "spikelab", /' | tee -a "$results" >&2
  for lib in snntorch spikingjelly norse; do
    THREADS=$threads "$root/bench/peers/.venv/bin/python" -W ignore "$root/bench/peers/bench.py" throughput "$lib" "$config" \
      --time-steps "$steps" --batches "$batches" | tee -a "$results" >&2
  done
done
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peak = {(r["library"], r["time_steps"]): r["peak_rss_bytes"] for r in rows}
batch = rows[0]["batch"]
mib = 2 ** 20
growth = {lib: (peak[(lib, 400)] - peak[(lib, 100)]) / (300 * batch) for lib, _ in peak}
print(f"{'library':<14}{'peak T=100 MiB':>16}{'peak T=400 MiB':>16}{'growth B/sample-step':>22}{'vs spikelab':>13}")
for lib, g in growth.items():
    print(f"{lib:<14}{peak[(lib, 100)] / mib:>16.1f}{peak[(lib, 400)] / mib:>16.1f}{g:>22.0f}{g / growth['spikelab']:>12.2f}x")
PY
rm -f "$results"
