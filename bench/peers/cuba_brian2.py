#!/usr/bin/env python3
"""The CUBA benchmark in Brian2's C++ standalone mode, the same network as
experiments/cuba.toml (Brian2's own CUBA example parameters), one thread. Prints one JSON line:
the run time measured by the generated program (compilation and set-up excluded), the mean
rate, neurons and synapses.

    python cuba_brian2.py [neurons] [seconds]
"""
import json
import sys
import tempfile
import time

from brian2 import (NeuronGroup, SpikeMonitor, Synapses, defaultclock, device, ms, mV, prefs, run, second,
                    set_device)

neurons = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0

build_dir = tempfile.mkdtemp(prefix="cuba_brian2_")
set_device("cpp_standalone", directory=build_dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms

taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = """
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = NeuronGroup(neurons, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * mV
P.gi = 0 * mV
n_exc = int(neurons * 0.8)
Ce = Synapses(P, P, on_pre="ge += 1.62*mV")
Ci = Synapses(P, P, on_pre="gi += -9*mV")
Ce.connect(f"i<{n_exc}", p=0.02)
Ci.connect(f"i>={n_exc}", p=0.02)
spikes = SpikeMonitor(P, record=False)
run(duration * second)
start = time.perf_counter()
device.build(directory=build_dir, compile=True, run=True, debug=False)
total = time.perf_counter() - start
print(json.dumps({
    "library": "brian2-cpp-standalone",
    "wall_seconds": device._last_run_time,
    "build_and_run_seconds": total,
    "simulated_seconds": duration,
    "neurons": neurons,
    "synapses": int(len(Ce) + len(Ci)),
    "mean_rate_hz": int(spikes.num_spikes) / neurons / duration,
}), flush=True)
