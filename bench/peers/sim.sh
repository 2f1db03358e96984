#!/usr/bin/env bash
# CUBA and COBA (experiments/cuba.toml, coba.toml) in spikelab against Brian2's C++ standalone
# device and NEST, one thread each, rounds interleaved, medians of the simulation run times
# (set-up and compilation excluded); then spikelab's CUBA scaling table at 4k, 16k and 64k neurons with
# fixed in-degree 80 (64 excitatory + 16 inhibitory inputs per neuron, weights as in CUBA).
#   bash bench/peers/sim.sh [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
bash "$root/bench/peers/setup.sh" sim >&2
bash "$root/bench/peers/setup.sh" nest >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
results=$(mktemp)
for round in $(seq "$rounds"); do
  for model in cuba coba; do
    "$root/target/release/spikelab" run "$root/experiments/$model.toml" --json 2>/dev/null | tail -1 \
      | sed "s/^{/{\"library\": \"spikelab\", \"model\": \"$model\", /" | tee -a "$results" >&2
    "$root/bench/peers/.venv-sim/bin/python" "$root/bench/peers/network_brian2.py" "$model" 4000 10 2>/dev/null | tail -1 | tee -a "$results" >&2
    "$root/bench/peers/.venv-nest/bin/python" "$root/bench/peers/network_nest.py" "$model" 4000 10 2>/dev/null | tail -1 | tee -a "$results" >&2
  done
done
scaling=$(mktemp)
for n in 4000 16000 64000; do
  config=$(mktemp --suffix=.toml)
  exc=$((n * 4 / 5))
  sed -e "s/^size = 4000/size = $n/" -e "s/^pre = \[0, 3200\]/pre = [0, $exc]/" -e "s/^pre = \[3200, 4000\]/pre = [$exc, $n]/" \
      -e '0,/kind = "fixed-probability", p = 0.02/s//kind = "fixed-in-degree", k = 64/' \
      -e 's/kind = "fixed-probability", p = 0.02/kind = "fixed-in-degree", k = 16/' "$root/experiments/cuba.toml" > "$config"
  "$root/target/release/spikelab" run "$config" --json 2>/dev/null | tail -1 | tee -a "$scaling" >&2
  rm -f "$config"
done
python3 - "$results" "$scaling" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault((r["model"], r["library"]), []).append(r)
print(f"{'4000 neurons, 10 s':<34}{'run s (median)':>16}{'min':>8}{'max':>8}{'rate Hz':>9}{'synapses':>10}{'vs spikelab':>13}")
for (model, lib), rs in by.items():
    base = statistics.median(r["wall_seconds"] for r in by[(model, "spikelab")])
    w = [r["wall_seconds"] for r in rs]
    m = statistics.median(w)
    print(f"{model.upper() + ' ' + lib:<34}{m:>16.3f}{min(w):>8.3f}{max(w):>8.3f}{statistics.mean(r['mean_rate_hz'] for r in rs):>9.2f}{rs[0]['synapses']:>10}{m / base:>12.2f}x")
print(f"\n{'scaling (in-degree 80)':<26}{'neurons':>9}{'synapses':>10}{'run s':>8}{'rate Hz':>9}{'peak RSS MiB':>14}")
for l in open(sys.argv[2]):
    r = json.loads(l)
    print(f"{'spikelab':<26}{r['neurons']:>9}{r['synapses']:>10}{r['wall_seconds']:>8.3f}{r['mean_rate_hz']:>9.2f}{r['peak_rss_bytes'] / 2**20:>14.1f}")
PY
rm -f "$results" "$scaling"
