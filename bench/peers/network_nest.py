#!/usr/bin/env python3
"""The CUBA and COBA benchmarks in NEST, the same networks as experiments/cuba.toml and
experiments/coba.toml (Brian2's example parameters, translated to NEST's units), one thread.
Prints one JSON line: the wall time of nest.Simulate alone (network construction excluded), the
mean rate, neurons and synapses.

    python network_nest.py cuba|coba [neurons] [seconds]

Translation. Brian2's CUBA writes tau_m dv/dt = ge + gi - (v - E_L) with ge, gi in mV; NEST's
iaf_psc_exp has C dV/dt = -(C/tau_m)(V - E_L) + I, so a jump of w mV in ge is a jump of
C w / tau_m pA in I (exact integration in both). Brian2's COBA writes conductances relative to
the leak; NEST's iaf_cond_exp takes nS, so g = ge * g_L with g_L = C / tau_m, and the 20 mV
drive is I_e = g_L * 20 mV (NEST integrates this model with GSL's adaptive RK45, Brian2 and
spikelab with exponential Euler at dt = 0.1 ms). NEST's smallest delay is one step, which is
when a spike of Brian2's default schedule takes effect too.
"""
import json
import sys
import time

import nest

model = sys.argv[1] if len(sys.argv) > 1 else "cuba"
neurons = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
if model not in ("cuba", "coba"):
    raise SystemExit(f"model must be cuba or coba, not {model!r}")

nest.ResetKernel()
nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": 1})
tau_m, c_m = 20.0, 250.0
g_l = c_m / tau_m  # nS
common = {"C_m": c_m, "tau_m": tau_m, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
          "tau_syn_ex": 5.0, "tau_syn_in": 10.0}
if model == "cuba":
    pop = nest.Create("iaf_psc_exp", neurons, params={**common, "E_L": -49.0})
    w_exc, w_inh = c_m * 1.62 / tau_m, c_m * -9.0 / tau_m
else:
    params = {k: v for k, v in common.items() if k != "tau_m"}
    params.update({"g_L": g_l, "E_L": -60.0, "E_ex": 0.0, "E_in": -80.0, "I_e": g_l * 20.0})
    pop = nest.Create("iaf_cond_exp", neurons, params=params)
    w_exc, w_inh = 0.6 * g_l, -6.7 * g_l  # NEST takes inhibitory conductance weights negative
pop.V_m = nest.random.uniform(-60.0, -50.0)
n_exc = int(neurons * 0.8)
rule = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
nest.Connect(pop[:n_exc], pop, rule, {"weight": w_exc, "delay": 0.1})
nest.Connect(pop[n_exc:], pop, rule, {"weight": w_inh, "delay": 0.1})
recorder = nest.Create("spike_recorder")
nest.Connect(pop, recorder)
synapses = nest.GetKernelStatus("num_connections") - neurons  # less the recorder's
nest.Prepare()  # buffers allocated before the clock starts
start = time.perf_counter()
nest.Run(duration * 1000.0)
wall = time.perf_counter() - start
nest.Cleanup()
print(json.dumps({
    "library": "nest",
    "model": model,
    "wall_seconds": wall,
    "simulated_seconds": duration,
    "neurons": neurons,
    "synapses": int(synapses),
    "mean_rate_hz": recorder.n_events / neurons / duration,
}), flush=True)
