#!/usr/bin/env python3
"""Reference point for the embedded split: a conventional ANN of the default network's shape
(784-800-10, ReLU, Adam 1e-3, batch 64, 8 epochs, PyTorch, seed 0) trained on
data/embedded-mnist. Prints held-out and training accuracy per epoch.

    bench/peers/.venv/bin/python bench/peers/ann_embedded.py
"""
import gzip
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(2)
data = Path(__file__).resolve().parents[2] / "data" / "embedded-mnist"


def read(name):
    raw = gzip.open(data / name).read()
    ndim = raw[3]
    dims = np.frombuffer(raw[4 : 4 + 4 * ndim], dtype=">u4")
    return np.frombuffer(raw[4 + 4 * ndim :], np.uint8).reshape(dims)


def images(name):
    return torch.tensor(read(name).reshape(-1, 784) / 255.0, dtype=torch.float32)


def labels(name):
    return torch.tensor(read(name).astype(np.int64))


x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
model = nn.Sequential(nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 10))
opt = torch.optim.Adam(model.parameters(), 1e-3)
for epoch in range(8):
    order = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 64):
        idx = order[i : i + 64]
        loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        test = (model(x_test).argmax(1) == y_test).float().mean().item()
        train = (model(x_train).argmax(1) == y_train).float().mean().item()
    print(f"epoch {epoch + 1}: held-out accuracy {100 * test:.2f}%, training accuracy {100 * train:.2f}%")
