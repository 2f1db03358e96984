#!/usr/bin/env python3
"""Training throughput of snnTorch and SpikingJelly on the issue's baseline config (CPU):
784-800-10 LIF (leak 0.9 per step, soft reset, threshold 1, arctan surrogate), T = 25,
batch 128, Bernoulli input spikes of probability 0.2 drawn per batch, Adam (lr 1e-3),
cross-entropy on the mean output rate. The same network spikelab's
`cargo run --release --example throughput` trains.

    python throughput.py [snntorch|spikingjelly|all] [batches] [time_steps] [batch] [rate]

Prints one JSON line per library: samples per second over the timed batches (after 2 warm-up
batches), spike generation included.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn

THREADS = int(os.environ.get("THREADS", "2"))
torch.set_num_threads(THREADS)


def snntorch_net():
    import snntorch as snn
    from snntorch import surrogate

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(784, 800), nn.Linear(800, 10)
            grad = surrogate.atan(alpha=2.0)
            self.lif1 = snn.Leaky(beta=0.9, spike_grad=grad, reset_mechanism="subtract")
            self.lif2 = snn.Leaky(beta=0.9, spike_grad=grad, reset_mechanism="subtract")

        def forward(self, x):  # x: [T, B, 784]
            mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
            out = []
            for t in range(x.shape[0]):
                spk1, mem1 = self.lif1(self.fc1(x[t]), mem1)
                spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
                out.append(spk2)
            return torch.stack(out)

    return Net(), lambda net: None


def spikingjelly_net():
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    def lif():
        return neuron.LIFNode(tau=10.0, decay_input=False, v_reset=None, surrogate_function=surrogate.ATan(), step_mode="m")

    net = nn.Sequential(layer.Linear(784, 800), lif(), layer.Linear(800, 10), lif())
    functional.set_step_mode(net, "m")
    return net, functional.reset_net


def measure(name, batches, steps, batch, rate):
    torch.manual_seed(1)
    net, reset = {"snntorch": snntorch_net, "spikingjelly": spikingjelly_net}[name]()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    labels = torch.arange(batch) * 7 % 10

    def step():
        x = torch.bernoulli(torch.full((steps, batch, 784), rate))
        out = net(x)
        loss = nn.functional.cross_entropy(out.mean(0), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        reset(net)

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(batches):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"library": name, "samples_per_second": round(batches * batch / seconds, 1), "seconds": round(seconds, 3),
                      "samples": batches * batch, "threads": THREADS, "time_steps": steps, "batch": batch, "rate": rate,
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    rest = [float(a) for a in sys.argv[2:]]
    batches, steps, batch, rate = (int(rest[0]) if rest else 10), (int(rest[1]) if len(rest) > 1 else 25), (int(rest[2]) if len(rest) > 2 else 128), (rest[3] if len(rest) > 3 else 0.2)
    for name in (["snntorch", "spikingjelly"] if which == "all" else [which]):
        measure(name, batches, steps, batch, rate)
