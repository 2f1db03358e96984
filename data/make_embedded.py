#!/usr/bin/env python3
"""Builds data/embedded-mnist/: the stratified MNIST subset compiled into `spikelab train`.

Takes, in file order, the first 2,400 training images of each digit from MNIST's training set
and the first 400 test images of each digit from MNIST's test set (so the held-out split never
overlaps the training split), and writes them as gzip IDX files.

    python3 data/make_embedded.py ../shared/data/mnist data/embedded-mnist
"""
import gzip
import struct
import sys
from pathlib import Path

PER_CLASS = {"train": 2400, "t10k": 400}


def read_idx(path):
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim :]


def write_idx(path, dims, payload):
    header = bytes([0, 0, 8, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        f.write(header + payload)


def main(src, dst):
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for split, per_class in PER_CLASS.items():
        (n, rows, cols), images = read_idx(src / f"{split}-images-idx3-ubyte.gz")
        _, labels = read_idx(src / f"{split}-labels-idx1-ubyte.gz")
        size = rows * cols
        taken, counts = [], [0] * 10
        for i in range(n):
            if counts[labels[i]] < per_class:
                counts[labels[i]] += 1
                taken.append(i)
        write_idx(dst / f"{split}-images-idx3-ubyte.gz", (len(taken), rows, cols), b"".join(images[i * size : (i + 1) * size] for i in taken))
        write_idx(dst / f"{split}-labels-idx1-ubyte.gz", (len(taken),), bytes(labels[i] for i in taken))
        print(split, len(taken), "images")


if __name__ == "__main__":
    main(*sys.argv[1:3])
