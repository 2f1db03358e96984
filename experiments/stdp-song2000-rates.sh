#!/usr/bin/env bash
# STDP keeps a neuron's output rate nearly steady as its input rate grows (Song, Miller & Abbott
# 2000, Fig. 2): experiments/stdp-song2000.toml run at several input rates, with its STDP and
# with the same starting weights held static; the output rate over the last 20 s and the mean
# final weight, mean ± std over seeds.
#   bash experiments/stdp-song2000-rates.sh [SECONDS] [SEEDS]
# (defaults: 200 s, seeds "1 2 3"; RATES narrows the input rates, default "10 15 20 30 40" Hz)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-200}
seeds=${2:-1 2 3}
cargo build --release --manifest-path "$root/Cargo.toml" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for rate in ${RATES:-10 15 20 30 40}; do
  for rule in stdp static; do
    for seed in $seeds; do
      config="$work/$rate-$rule-$seed.toml"
      sed -e "s/^duration = .*/duration = $((seconds * 1000)).0/" -e "s/^seed = .*/seed = $seed/" \
          -e "s/rate = 15.0 }/rate = $rate.0 }/" -e "s/^late_window = .*/late_window = 20000.0/" \
          "$root/experiments/stdp-song2000.toml" > "$config"
      grep -q "rate = $rate.0 }" "$config" || { echo "could not set the input rate to $rate Hz" >&2; exit 1; }
      [ "$rule" = static ] && sed -i '/^plasticity = /d' "$config"
      "$root/target/release/spikelab" run "$config" --json 2>/dev/null | tail -1 > "$work/$rate-$rule-$seed.json"
      echo "$rate $rule $seed" >&2
    done
  done
done
python3 - "$work" "$seconds" "${RATES:-10 15 20 30 40}" "$seeds" <<'PY'
import json, statistics, sys
work, seconds, rates, seeds = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
def report(run):
    return json.load(open(f"{work}/{run}.json"))
def show(values, digits):
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values) if len(values) > 1 else 0:.{digits}f}"
print(f"{seconds:.0f} s, seeds {' '.join(seeds)}; output rate over the last 20 s")
print(f"{'input Hz':>9}{'output Hz, STDP':>20}{'output Hz, static':>20}{'mean final w (mV), STDP':>26}")
for rate in rates:
    stdp = [report(f"{rate}-stdp-{s}")["late_rates_hz"]["neuron"] for s in seeds]
    static = [report(f"{rate}-static-{s}")["late_rates_hz"]["neuron"] for s in seeds]
    weights = [report(f"{rate}-stdp-{s}")["weights"][0]["final"]["mean"] for s in seeds]
    print(f"{rate:>9}{show(stdp, 2):>20}{show(static, 2):>20}{show(weights, 4):>26}")
PY
