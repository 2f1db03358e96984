#!/usr/bin/env bash
# Short-term plasticity against Brian2: Brian's STP example (experiments/stp-brian2-example.toml)
# in spikelab and in Brian2 (bench/peers/stp_brian2.py), every neuron's membrane potential at
# every step compared; prints the largest difference per population beside its largest value.
#   bash bench/peers/stp.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
config="$root/experiments/stp-brian2-example.toml"
bash "$root/bench/peers/setup.sh" sim >&2
cargo build --release --manifest-path "$root/Cargo.toml" >&2
work=$(mktemp -d)
"$root/target/release/spikelab" run "$config" --out "$work/spikelab" >&2
"$root/bench/peers/.venv-sim/bin/python" "$root/bench/peers/stp_brian2.py" "$config" "$work/brian2.csv"
"$root/bench/peers/.venv-sim/bin/python" - "$work/spikelab/sim_state.csv" "$work/brian2.csv" <<'PY'
import sys
import numpy as np
ours, theirs = (np.genfromtxt(f, delimiter=",", names=True) for f in sys.argv[1:])
assert len(ours) == len(theirs) and np.allclose(ours["time_ms"], theirs["time_ms"], rtol=0, atol=1e-9), "the two traces are sampled at different times"
print(f"{'population':<14}{'max |v| mV':>12}{'max |spikelab - brian2| mV':>28}")
# Brian2 brings its event-driven u and x up to date only at spikes, so v alone is compared.
shared = [n for n in ours.dtype.names[1:] if n in theirs.dtype.names]
for pop in dict.fromkeys(n.rsplit("v", 1)[0] for n in shared):
    cols = [n for n in shared if n.startswith(pop)]
    peak = max(np.abs(ours[c]).max() for c in cols)
    diff = max(np.abs(ours[c] - theirs[c]).max() for c in cols)
    print(f"{pop:<14}{peak:>12.4f}{diff:>28.3e}")
PY
rm -rf "$work"
