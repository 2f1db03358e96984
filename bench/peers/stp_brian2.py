#!/usr/bin/env python3
"""Brian's short-term plasticity example in Brian2, set up from experiments/stp-brian2-example.toml
(its spike times, weights, time constants and STP parameters), with the example's synapse model:
u and x event-driven, u relaxing to U, and on a spike `g += w*u*x; x *= (1-u); u += U*(1-u)`.
Writes the membrane potentials (mV) of every neuron at every step as CSV, named as spikelab's
sim_state.csv names them, at the times spikelab samples (after each step).

    python stp_brian2.py CONFIG OUT.csv
"""
import sys
import tomllib

import numpy as np
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, StateMonitor, Synapses, defaultclock, ms, prefs

config = tomllib.load(open(sys.argv[1], "rb"))
prefs.codegen.target = "numpy"
dt = config["dt"]
defaultclock.dt = dt * ms
(source,) = config["sources"]
indices = [i for i, times in enumerate(source["spikes"]["times"]) for _ in times]
times = [t for ts in source["spikes"]["times"] for t in ts]
trains = SpikeGeneratorGroup(source["size"], indices, np.array(times) * ms)

monitors = []
net = Network(trains)
for pop in config["populations"]:
    neuron, synapse = pop["neuron"], pop["synapse"]
    assert neuron["v_rest"] == 0.0 and synapse["kind"] == "current"
    group = NeuronGroup(pop["size"], "dv/dt = (g - v) / taum : 1\ndg/dt = -g / taue : 1",
                        namespace={"taum": neuron["tau_m"] * ms, "taue": synapse["tau_e"] * ms}, method="exact")
    (proj,) = [p for p in config["projections"] if p["to"] == pop["name"]]
    stp = proj["stp"]
    assert stp["order"] == "release-first" and proj["connect"]["kind"] == "one-to-one"
    syn = Synapses(trains, group,
                   """w : 1
                      dx/dt = (1 - x) / taud : 1 (event-driven)
                      du/dt = (U - u) / tauf : 1 (event-driven)""",
                   on_pre="g += w*u*x\nx *= (1 - u)\nu += U*(1 - u)",
                   namespace={"U": stp["u"], "taud": stp["tau_d"] * ms, "tauf": stp["tau_f"] * ms})
    syn.connect(j="i")
    syn.w, syn.x, syn.u = proj["weight"], 1.0, stp["u"]
    monitors.append((pop["name"], pop["size"], StateMonitor(group, "v", record=True, when="end")))
    net.add(group, syn, monitors[-1][2])

net.run(config["duration"] * ms)
columns, names = [], []
for name, size, mon in monitors:
    for k in range(size):
        columns.append(np.asarray(mon.v[k]))
        names.append(f"{name}.v[{k}]")
t = np.asarray(monitors[0][2].t / ms) + dt  # recorded at the step's end: spikelab's time of that state
data = np.column_stack([t] + columns)
np.savetxt(sys.argv[2], data, delimiter=",", header=",".join(["time_ms"] + names), comments="", fmt="%.17g")
