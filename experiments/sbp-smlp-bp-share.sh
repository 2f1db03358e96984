#!/usr/bin/env bash
# The SBP paper's "replace BP by SBP in x% of iterations" curve for S-MLP-SBP on MNIST
# (../shared/docs/reference/sbp.md §5): the hidden layer takes its BP gradient every k-th
# step (sbp-smlp-mnist.toml's `sbp_hook`, the released code's timing) and the SBP signal
# otherwise, k = 1 (0% SBP), 2 (50%), 4 (75%), 10 (90%) and never (100%); one seed each.
#   bash experiments/sbp-smlp-bp-share.sh DATA_DIR [EPOCHS] [TRAIN_SAMPLES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: sbp-smlp-bp-share.sh DATA_DIR [EPOCHS] [TRAIN_SAMPLES]}
epochs=${2:-100}
samples=${3:-60000}
cargo build --release --manifest-path "$root/Cargo.toml" >&2
printf '%-10s %-12s %s\n' "bp_every" "SBP share" "test accuracy %"
for k in 1 2 4 10 0; do
  file=$(mktemp --suffix=.toml)
  sed -e "s/^bp_every = .*/bp_every = $k/" -e "s/^seeds = \[\([0-9]*\),.*/seeds = [\1]\ntrain_samples = $samples/" \
      "$root/experiments/sbp-smlp-mnist.toml" > "$file"
  share=$(python3 -c "k=$k; print('100%' if k == 0 else f'{100 - 100 // k}%')")
  accuracy=$("$root/target/release/spikelab" run "$file" --data-dir "$data" --epochs "$epochs" --json 2>/dev/null | tail -1 \
    | python3 -c "import json,sys; print(round(json.load(sys.stdin)['accuracy']['mean'], 2))")
  printf '%-10s %-12s %s\n' "$k" "$share" "$accuracy"
  rm -f "$file"
done
