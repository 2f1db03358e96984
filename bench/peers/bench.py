#!/usr/bin/env python3
"""The peer libraries on spikelab's benchmark configs (bench/configs/*.toml), CPU only.

    python bench.py throughput LIBRARY CONFIG [--batches N] [--time-steps T]
    python bench.py accuracy LIBRARY CONFIG --data-dir DIR [--seed N]

LIBRARY is snntorch, spikingjelly or norse. The config's network is rebuilt from its [model]
table (linear, conv2d, lif, max-pool2d, flatten) with each library's own layers and LIF neuron:
leak 0.9 per step, subtractive reset, threshold 1, arctan surrogate (alpha 2) where the library
has it. Norse's LIFBox neuron integrates dt·τ⁻¹·(input − v), so its input is scaled by 0.1;
its default SuperSpike surrogate is kept.

throughput: trains the config's warm-up and timed batches on the config's input (Bernoulli
spikes of the encoder's max_rate, or a random image repeated every step for direct input) and
prints one JSON line with samples_per_second and peak_rss_bytes (the process's peak resident
memory, as spikelab bench train reports it; run one measurement per process).

accuracy: one epoch of MNIST, pixels as Bernoulli spike probabilities, then the test accuracy
(the config's T, batch and optimizer), printed as one JSON line.
"""
import argparse
import gzip
import json
import os
import resource
import struct
import time
import tomllib

import torch
import torch.nn as nn

THREADS = int(os.environ.get("THREADS", "2"))
torch.set_num_threads(THREADS)
DECAY = 0.9


def lif_settings(spec):
    if spec.get("decay") != DECAY or spec.get("reset") != "subtract":
        raise SystemExit(f"bench.py builds LIF layers with decay = {DECAY} and subtractive reset only; got {spec}")


def build_layers(model, make_lif):
    """torch modules for the [model] layers; `make_lif()` makes one spiking layer."""
    shape, mods = list(model["input"]), []
    for spec in model["layers"]:
        kind = spec["type"]
        if kind == "linear":
            mods.append(nn.Linear(shape[-1], spec["out"], bias=spec.get("bias", True)))
            shape = [spec["out"]]
        elif kind == "conv2d":
            k, p, s = spec["kernel"], spec.get("padding", 0), spec.get("stride", 1)
            mods.append(nn.Conv2d(shape[0], spec["out_channels"], k, stride=s, padding=p, bias=spec.get("bias", True)))
            shape = [spec["out_channels"], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
        elif kind == "max-pool2d":
            k = spec["kernel"]
            s = spec.get("stride") or k
            mods.append(nn.MaxPool2d(k, s))
            shape = [shape[0], (shape[1] - k) // s + 1, (shape[2] - k) // s + 1]
        elif kind == "flatten":
            mods.append(nn.Flatten())
            shape = [int(torch.tensor(shape).prod())]
        elif kind == "lif":
            lif_settings(spec)
            mods.append(make_lif())
        else:
            raise SystemExit(f"bench.py cannot build layer type {kind!r}")
    return mods


class StepLoop(nn.Module):
    """Runs per-step modules over [T, B, ...]; spiking ones carry state through time."""

    def __init__(self, mods, is_spiking, step_spiking):
        super().__init__()
        self.mods = nn.ModuleList(mods)
        self.is_spiking, self.step_spiking = is_spiking, step_spiking

    def forward(self, x):
        states = [None] * len(self.mods)
        out = []
        for t in range(x.shape[0]):
            h = x[t]
            for i, m in enumerate(self.mods):
                if self.is_spiking(m):
                    h, states[i] = self.step_spiking(m, h, states[i])
                else:
                    h = m(h)
            out.append(h)
        return torch.stack(out)


def snntorch_net(model):
    import snntorch as snn
    from snntorch import surrogate

    def lif():
        return snn.Leaky(beta=DECAY, threshold=1.0, spike_grad=surrogate.atan(alpha=2.0), reset_mechanism="subtract")

    def step(m, h, mem):
        spk, mem = m(h, m.init_leaky() if mem is None else mem)
        return spk, mem

    return StepLoop(build_layers(model, lif), lambda m: isinstance(m, snn.Leaky), step), lambda: None


def spikingjelly_net(model):
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    def lif():
        return neuron.LIFNode(tau=1.0 / (1.0 - DECAY), decay_input=False, v_reset=None, v_threshold=1.0,
                              surrogate_function=surrogate.ATan(alpha=2.0), step_mode="m")

    # SpikingJelly's multi-step mode: stateless layers see [T·B, ...] in one call.
    mods = [m if isinstance(m, neuron.LIFNode) else layer.SeqToANNContainer(m) for m in build_layers(model, lif)]
    net = nn.Sequential(*mods)
    functional.set_step_mode(net, "m")
    return net, lambda: functional.reset_net(net)


def norse_net(model):
    import norse.torch as norse
    from norse.torch.functional.reset import reset_subtract

    params = norse.LIFBoxParameters(tau_mem_inv=torch.tensor((1.0 - DECAY) / 1e-3), v_th=torch.tensor(1.0), reset_method=reset_subtract)

    def lif():
        return norse.LIFBoxCell(params, dt=1e-3)

    return StepLoop(build_layers(model, lif), lambda m: isinstance(m, norse.LIFBoxCell), lambda m, h, s: m(h, s)), lambda: None


NETS = {"snntorch": snntorch_net, "spikingjelly": spikingjelly_net, "norse": norse_net}


def optimizer(params, spec):
    if spec.get("kind", "adam") != "adam":
        raise SystemExit(f"bench.py uses Adam only; the config asks for {spec}")
    return torch.optim.Adam(params, lr=spec.get("lr", 1e-3))


def encoder(config, steps):
    enc, shape = config["train"]["encoder"], config["model"]["input"]
    if enc["kind"] == "rate":
        rate = enc.get("max_rate", 1.0)
        # A batch of probabilities in [0, 1] (or None: every input at the config's rate).
        return lambda batch, probs=None: torch.bernoulli(
            torch.full((steps, batch, *shape), rate) if probs is None else (probs * rate).expand(steps, *probs.shape))
    if enc["kind"] == "direct":
        return lambda batch, probs=None: (torch.rand(batch, *shape) if probs is None else probs).unsqueeze(0).repeat(steps, *[1] * (1 + len(shape)))
    raise SystemExit(f"bench.py has no {enc['kind']!r} encoder")


def train_step(net, reset, opt, x, labels):
    out = net(x)
    loss = nn.functional.cross_entropy(out.mean(0).flatten(1), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    reset()


def throughput(lib, config, batches, steps):
    torch.manual_seed(1)
    train = config["train"]
    steps = steps or train["time_steps"]
    batch = train["batch_size"]
    bench = config.get("bench", {})
    batches = batches or bench.get("batches", 20)
    net, reset = NETS[lib](config["model"])
    opt = optimizer(net.parameters(), train["optimizer"])
    encode = encoder(config, steps)
    labels = torch.randint(0, 10, (batch,))
    for _ in range(bench.get("warmup", 2)):
        train_step(net, reset, opt, encode(batch), labels)
    start = time.perf_counter()
    for _ in range(batches):
        train_step(net, reset, opt, encode(batch), labels)
    seconds = time.perf_counter() - start
    return {"samples_per_second": batches * batch / seconds, "seconds": seconds, "samples": batches * batch,
            "time_steps": steps, "batch": batch, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def mnist(data_dir, split):
    base = data_dir if os.path.exists(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz")) else os.path.join(data_dir, "mnist")
    images = read_idx(os.path.join(base, f"{split}-images-idx3-ubyte.gz")).float().div(255).flatten(1)
    labels = read_idx(os.path.join(base, f"{split}-labels-idx1-ubyte.gz")).long()
    return images, labels


def accuracy(lib, config, data_dir, seed):
    torch.manual_seed(seed)
    train = config["train"]
    net, reset = NETS[lib](config["model"])
    opt = optimizer(net.parameters(), train["optimizer"])
    encode = encoder(config, train["time_steps"])
    images, labels = mnist(data_dir, "train")
    batch = train["batch_size"]
    start = time.perf_counter()
    order = torch.randperm(len(labels))
    for i in range(0, len(labels), batch):
        idx = order[i:i + batch]
        train_step(net, reset, opt, encode(len(idx), images[idx]), labels[idx])
    seconds = time.perf_counter() - start
    images, labels = mnist(data_dir, "t10k")
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), 1000):
            out = net(encode(len(labels[i:i + 1000]), images[i:i + 1000]))
            reset()
            correct += (out.mean(0).argmax(1) == labels[i:i + 1000]).sum().item()
    return {"test_accuracy": correct / len(labels), "train_seconds": seconds, "epochs": 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["throughput", "accuracy"])
    ap.add_argument("library", choices=sorted(NETS))
    ap.add_argument("config")
    ap.add_argument("--batches", type=int)
    ap.add_argument("--time-steps", type=int)
    ap.add_argument("--data-dir")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.config, "rb") as f:
        config = tomllib.load(f)
    if a.what == "throughput":
        result = throughput(a.library, config, a.batches, a.time_steps)
    else:
        if not a.data_dir:
            ap.error("accuracy needs --data-dir (the folder with MNIST's idx files)")
        result = accuracy(a.library, config, a.data_dir, a.seed)
    result.update({"library": a.library, "config": a.config, "threads": THREADS, "torch": torch.__version__})
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
