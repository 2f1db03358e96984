"""What the reference drivers beside this file share: reading the MNIST IDX files, writing one
JSON line per epoch (no dependencies)."""
import gzip
import json
import os
import struct
import sys


def read_idx(path, magic):
    """The payload bytes and item count of an IDX file (images: magic 2051, labels: 2049)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 8 or struct.unpack(">i", data[:4])[0] != magic:
        sys.exit(f"{path}: not an IDX file with magic {magic}")
    count = struct.unpack(">i", data[4:8])[0]
    header = 16 if magic == 2051 else 8
    size = 784 if magic == 2051 else 1
    if len(data) != header + count * size:
        sys.exit(f"{path}: {len(data)} bytes, expected {header + count * size} for {count} items")
    return data[header:], count


def find(idx_dir, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(idx_dir, name)
        if os.path.exists(path):
            return path
    sys.exit(f"{idx_dir}: neither {stem} nor {stem}.gz")


def read_split(idx_dir, split):
    """(image bytes, 784 per image; label bytes; count) of `train` or `t10k` in idx_dir."""
    images, n = read_idx(find(idx_dir, f"{split}-images-idx3-ubyte"), 2051)
    labels, m = read_idx(find(idx_dir, f"{split}-labels-idx1-ubyte"), 2049)
    if n != m:
        sys.exit(f"{split}: {n} images but {m} labels")
    return images, labels, n


def emit_epoch(line, path=None):
    """Prints one epoch's JSON line and, with `path`, appends it there."""
    text = json.dumps(line)
    print(text, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")
