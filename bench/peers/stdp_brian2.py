#!/usr/bin/env python3
"""Brian2's STDP example (Song, Miller & Abbott 2000) in its C++ standalone mode: the same network
as experiments/stdp-song2000.toml, one thread. Prints one JSON line: the run time measured by the
generated program (compilation and set-up excluded), the output rate, and the final weights in
mV (w·(E_e − v_reset), the example's linearised drive) summarised as spikelab's report does.

    python stdp_brian2.py [seconds] [seed]
"""
import json
import sys
import tempfile
import time

import numpy as np
from brian2 import (NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, defaultclock, device, Hz, ms, mV, prefs,
                    run, second, seed, set_device)

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)

build_dir = tempfile.mkdtemp(prefix="brian2_stdp_")
set_device("cpp_standalone", directory=build_dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms

N, F = 1000, 15 * Hz
taum, taupre, taupost, taue = 10 * ms, 20 * ms, 20 * ms, 5 * ms
Ee, vt, vr, El = 0 * mV, -54 * mV, -60 * mV, -74 * mV
gmax = 0.01
dApre = 0.01 * gmax
dApost = -dApre * taupre / taupost * 1.05

inputs = PoissonGroup(N, rates=F)
neuron = NeuronGroup(1, "dv/dt = (ge * (Ee-vr) + El - v) / taum : volt\ndge/dt = -ge / taue : 1",
                     threshold="v>vt", reset="v = vr", method="exact")
neuron.v = vr
S = Synapses(inputs, neuron,
             """w : 1
                dApre/dt = -Apre / taupre : 1 (event-driven)
                dApost/dt = -Apost / taupost : 1 (event-driven)""",
             on_pre="""ge += w
                    Apre += dApre
                    w = clip(w + Apost, 0, gmax)""",
             on_post="""Apost += dApost
                     w = clip(w + Apre, 0, gmax)""")
S.connect()
S.w = "rand() * gmax"
spikes = SpikeMonitor(neuron, record=False)
run(duration * second)
start = time.perf_counter()
device.build(directory=build_dir, compile=True, run=True, debug=False)
total = time.perf_counter() - start

scale = float((Ee - vr) / mV)  # weights as the mV each spike adds
w = np.asarray(S.w[:]) * scale
top = gmax * scale
near = 0.01 * top
histogram = np.histogram(np.clip(w, 0, top), bins=20, range=(0, top))[0]
print(json.dumps({
    "library": "brian2-cpp-standalone",
    "wall_seconds": device._last_run_time,
    "build_and_run_seconds": total,
    "simulated_seconds": duration,
    "synapses": int(len(S)),
    "rate_hz": int(spikes.num_spikes) / duration,
    "weights": {"mean": float(w.mean()), "std": float(w.std()), "near_low": float((w <= near).mean()),
                "near_high": float((w >= top - near).mean()), "histogram": histogram.tolist()},
}), flush=True)
