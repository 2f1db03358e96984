#!/usr/bin/env python3
"""The CUBA and COBA benchmarks in Brian2's C++ standalone mode, the same networks as
experiments/cuba.toml and experiments/coba.toml (Brian2's own example parameters), one thread.
Prints one JSON line: the run time measured by the generated program (compilation and set-up
excluded), the mean rate, neurons and synapses.

    python network_brian2.py cuba|coba [neurons] [seconds]
"""
import json
import sys
import tempfile
import time

from brian2 import (NeuronGroup, SpikeMonitor, Synapses, defaultclock, device, ms, mV, prefs, run, second,
                    set_device)

model = sys.argv[1] if len(sys.argv) > 1 else "cuba"
neurons = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
if model not in ("cuba", "coba"):
    raise SystemExit(f"model must be cuba or coba, not {model!r}")

build_dir = tempfile.mkdtemp(prefix="brian2_network_")
set_device("cpp_standalone", directory=build_dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms

taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr = -50 * mV, -60 * mV
if model == "cuba":
    El = -49 * mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    method, on_e, on_i = "exact", "ge += 1.62*mV", "gi += -9*mV"
else:
    El, Ee, Ei, drive = -60 * mV, 0 * mV, -80 * mV, 20 * mV
    eqs = """
    dv/dt  = (ge*(Ee-v)+gi*(Ei-v)-(v-El)+drive)/taum : volt (unless refractory)
    dge/dt = -ge/taue : 1
    dgi/dt = -gi/taui : 1
    """
    method, on_e, on_i = "exponential_euler", "ge += 0.6", "gi += 6.7"
P = NeuronGroup(neurons, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method=method)
P.v = "Vr + rand() * (Vt - Vr)"
n_exc = int(neurons * 0.8)
Ce = Synapses(P, P, on_pre=on_e)
Ci = Synapses(P, P, on_pre=on_i)
Ce.connect(f"i<{n_exc}", p=0.02)
Ci.connect(f"i>={n_exc}", p=0.02)
spikes = SpikeMonitor(P, record=False)
run(duration * second)
start = time.perf_counter()
device.build(directory=build_dir, compile=True, run=True, debug=False)
total = time.perf_counter() - start
print(json.dumps({
    "library": "brian2-cpp-standalone",
    "model": model,
    "wall_seconds": device._last_run_time,
    "build_and_run_seconds": total,
    "simulated_seconds": duration,
    "neurons": neurons,
    "synapses": int(len(Ce) + len(Ci)),
    "mean_rate_hz": int(spikes.num_spikes) / neurons / duration,
}), flush=True)
