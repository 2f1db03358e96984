#!/usr/bin/env bash
# The SBP paper's sleep/wake grid for the RBM (../shared/docs/reference/sbp.md §4, §5): test
# error on MNIST for N_s (sleep) × N_w (wake) in {1, 6, 11, 16, 21}², with the SBP energy and
# with the plain one, one seed each.
#   bash experiments/sbp-rbm-grid.sh DATA_DIR [EPOCHS] [TRAIN_SAMPLES]
# (defaults: 10 epochs as the reference's train_model.py, all 60,000 training images)
# Part of the grid: GRID_CONFIGS, GRID_SLEEP and GRID_WAKE (space-separated) narrow the configs
# and the N_s and N_w values run; cells not run print as nan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: sbp-rbm-grid.sh DATA_DIR [EPOCHS] [TRAIN_SAMPLES]}
epochs=${2:-10}
samples=${3:-60000}
cargo build --release --manifest-path "$root/Cargo.toml" >&2
results=$(mktemp)
for config in ${GRID_CONFIGS:-sbp-rbm-mnist sbp-rbm-mnist-nosbp}; do
  for ns in ${GRID_SLEEP:-1 6 11 16 21}; do
    for nw in ${GRID_WAKE:-1 6 11 16 21}; do
      file=$(mktemp --suffix=.toml)
      sed -e "s/^sleep_steps = .*/sleep_steps = $ns/" -e "s/^wake_steps = .*/wake_steps = $nw/" \
          -e "s/^seeds = .*/seeds = [0]\ntrain_samples = $samples/" "$root/experiments/$config.toml" > "$file"
      "$root/target/release/spikelab" run "$file" --data-dir "$data" --epochs "$epochs" --json 2>/dev/null | tail -1 \
        | python3 -c "import json,sys; r=json.load(sys.stdin); print('$config', $ns, $nw, 100 - r['accuracy']['mean'])" | tee -a "$results" >&2
      rm -f "$file"
    done
  done
done
python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
for config in ("sbp-rbm-mnist", "sbp-rbm-mnist-nosbp"):
    print(f"\n{config}: test error % (rows N_w, columns N_s)")
    print("N_w\\N_s " + "".join(f"{ns:>8}" for ns in (1, 6, 11, 16, 21)))
    for nw in (1, 6, 11, 16, 21):
        cells = {int(r[1]): float(r[3]) for r in rows if r[0] == config and int(r[2]) == nw}
        print(f"{nw:>7} " + "".join(f"{cells.get(ns, float('nan')):>8.2f}" for ns in (1, 6, 11, 16, 21)))
PY
rm -f "$results"
