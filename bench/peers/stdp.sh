#!/usr/bin/env bash
# Plastic synapses: Brian2's STDP example (Song, Miller & Abbott 2000; experiments/stdp-song2000.toml)
# in spikelab and in Brian2's C++ standalone device, one thread each, rounds interleaved, the
# same seed for both in each round; medians of the simulation run times (set-up and compilation
# excluded) and every round's output rate and final weight distribution.
#   bash bench/peers/stdp.sh [rounds] [seconds]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
seconds=${2:-100}
bash "$root/bench/peers/setup.sh" sim >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
results=$(mktemp)
config=$(mktemp --suffix=.toml)
for round in $(seq "$rounds"); do
  sed -e "s/^duration = .*/duration = $((seconds * 1000)).0/" -e "s/^seed = .*/seed = $round/" "$root/experiments/stdp-song2000.toml" > "$config"
  "$root/target/release/spikelab" run "$config" --json 2>/dev/null | tail -1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
w = r["weights"][0]["final"]
print(json.dumps({"library": "spikelab", "wall_seconds": r["wall_seconds"], "rate_hz": r["rates_hz"]["neuron"],
                  "weights": {k: w[k] for k in ("mean", "std", "near_low", "near_high", "histogram")}}))' | tee -a "$results" >&2
  "$root/bench/peers/.venv-sim/bin/python" "$root/bench/peers/stdp_brian2.py" "$seconds" "$round" 2>/dev/null | tail -1 | tee -a "$results" >&2
done
python3 - "$results" "$seconds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
libs = list(dict.fromkeys(r["library"] for r in rows))
base = statistics.median(r["wall_seconds"] for r in rows if r["library"] == "spikelab")
print(f"STDP, 1000 inputs onto one neuron, {sys.argv[2]} s simulated")
print(f"{'library':<24}{'run s (median)':>15}{'vs spikelab':>12}{'rate Hz':>9}{'mean w mV':>10}{'at 0':>7}{'at max':>8}")
for lib in libs:
    rs = [r for r in rows if r["library"] == lib]
    m = statistics.median(r["wall_seconds"] for r in rs)
    mean = lambda f: statistics.mean(f(r) for r in rs)
    print(f"{lib:<24}{m:>15.3f}{m / base:>11.2f}x{mean(lambda r: r['rate_hz']):>9.2f}{mean(lambda r: r['weights']['mean']):>10.4f}"
          f"{mean(lambda r: r['weights']['near_low']):>7.1%}{mean(lambda r: r['weights']['near_high']):>8.1%}")
    for r in rs:
        print(f"  histogram (20 bins over [0, 0.6] mV): {r['weights']['histogram']}")
PY
rm -f "$results" "$config"
