"""Runs the SBP paper's released "RBM" (the layered Hopfield network of SBP_ANN_RBM/model.py,
Theano) on MNIST read from the IDX files, with the settings of its train_model.py, so that
spikelab's `sbp-rbm` can be compared with the reference code itself. See README.md beside this
file.

    python3 sbp_rbm_mnist.py REF_DIR IDX_DIR --sbp 1 --seed 0 --epochs 10 [--sleep 10]
        [--wake 10] [--theta 0.5] [--train-samples 50000] [--valid-samples 10000] [--json FILE]

REF_DIR holds the reference's model.py (thomasaimondy/SBP, SBP_ANN_RBM/); it is imported as it
is. Theano is long unmaintained and does not install on current Python, so the driver puts
PyTensor, Theano's maintained fork with the same API, under the name `theano`. The reference's
external_world.py reads `mnist.pkl.gz` (50,000 training + 10,000 validation images, split from
the IDX training file); its stand-in here reads the first TRAIN training images and the first
VALID test images of the IDX files, in that order, as one data set — the layout the reference's
index arithmetic expects (the validation minibatches follow the training ones). The training
loop is train_model.py's `train_net`: the persistent particles per sample, the sleep phase, the
training error measured on the free state, β with a random sign per minibatch (the sign is
multiplied into the running β, as there), the wake phase and update, then sleep-only
validation.

The reference seeds nothing (`np.random.RandomState()` per weight matrix, `np.random.randint`
for β's sign); the driver seeds both from --seed so that a run can be repeated.
"""
import argparse
import os
import sys
import time
import types

import numpy as np

from reference_io import emit_epoch, read_split


def load(idx_dir, split, limit):
    images, labels, n = read_split(idx_dir, split)
    if limit > n:
        sys.exit(f"{split}: asked for {limit} samples, the file holds {n}")
    images = np.frombuffer(images, dtype=np.uint8).reshape(n, 784)
    return images[:limit].astype(np.float32) / 255.0, np.frombuffer(labels, dtype=np.uint8)[:limit].astype(np.int32)


def install_theano(floatx):
    """PyTensor under Theano's module names, before the reference imports them."""
    os.environ.setdefault("PYTENSOR_FLAGS", f"floatX={floatx}")
    import pytensor
    import pytensor.tensor

    pytensor.config.floatX = floatx
    sys.modules["theano"] = pytensor
    sys.modules["theano.tensor"] = pytensor.tensor
    return pytensor


def install_external_world(pytensor, x, y):
    """The stand-in for the reference's external_world.py: the given samples, one data set."""
    import pytensor.tensor as T

    class External_World:
        def __init__(self, tasktype):
            if tasktype != "mnist":
                sys.exit(f"this driver feeds MNIST only, not {tasktype}")
            self.x = pytensor.shared(x.astype(pytensor.config.floatX), borrow=True)
            self.y = T.cast(pytensor.shared(y.astype(pytensor.config.floatX), borrow=True), "int32")
            self.y_onehot = pytensor.shared(np.eye(10, dtype=pytensor.config.floatX)[y], borrow=True)
            self.size_dataset = len(x)

    module = types.ModuleType("external_world")
    module.External_World = External_World
    sys.modules["external_world"] = module


class SeededRandomState(np.random.RandomState):
    """np.random.RandomState() without a seed draws from the OS; here from a seeded sequence."""

    draws = None

    def __init__(self, seed=None):
        super().__init__(seed if seed is not None else int(SeededRandomState.draws.randint(2**31)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ref_dir")
    p.add_argument("idx_dir")
    p.add_argument("--sbp", type=int, choices=[0, 1], default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--sleep", type=int, default=10, help="n_it_neg")
    p.add_argument("--wake", type=int, default=10, help="n_it_pos")
    p.add_argument("--theta", type=float, default=0.5)
    p.add_argument("--train-samples", type=int, default=50000)
    p.add_argument("--valid-samples", type=int, default=10000)
    p.add_argument("--floatx", default="float32", choices=["float32", "float64"])
    p.add_argument("--json", default=None, help="append one JSON line per epoch to this file")
    opt = p.parse_args()

    batch_size = 20
    if opt.train_samples % batch_size or opt.valid_samples % batch_size:
        sys.exit(f"--train-samples and --valid-samples must be multiples of the batch size {batch_size}")
    train_x, train_y = load(opt.idx_dir, "train", opt.train_samples)
    valid_x, valid_y = load(opt.idx_dir, "t10k", opt.valid_samples)
    pytensor = install_theano(opt.floatx)
    install_external_world(pytensor, np.concatenate([train_x, valid_x]), np.concatenate([train_y, valid_y]))
    sys.path.insert(0, opt.ref_dir)
    from model import Network  # the reference's network, energies and phases

    unseeded = np.random.RandomState
    SeededRandomState.draws = unseeded(opt.seed)
    np.random.RandomState = SeededRandomState
    np.random.seed(opt.seed)
    hyper = {  # train_model.py's train_mnist
        "model_path": f"absent-{os.getpid()}-{time.time()}",
        "log_path": "unused",
        "tasktype": "mnist",
        "input_sizes": 784,
        "hidden_sizes": [500],
        "output_sizes": 10,
        "n_epochs": opt.epochs,
        "batch_size": batch_size,
        "n_it_neg": opt.sleep,
        "n_it_pos": opt.wake,
        "epsilon": np.float32(1),
        "beta": np.float32(0.2),
        "alphas": [np.float32(0.1), np.float32(0.05)],
        "sbp": opt.sbp,
        "theta_sbp": opt.theta,
        "train_samples": opt.train_samples,
        "valid_samples": opt.valid_samples,
    }
    start = time.time()
    net = Network("net", hyper)
    np.random.RandomState = unseeded
    print(f"compiled in {time.time() - start:.1f} s", file=sys.stderr)

    beta = hyper["beta"]
    n_train, n_valid = opt.train_samples // batch_size, opt.valid_samples // batch_size
    for epoch in range(opt.epochs):
        errors = []
        for index in range(n_train):
            net.change_mini_batch_index(index)
            net.sbp_phase(opt.sleep, hyper["epsilon"])
            errors.append(net.measure()[2])
            sign = 2 * np.random.randint(0, 2) - 1
            beta = np.float32(sign * beta)
            net.abp_phase(opt.wake, hyper["epsilon"], beta, *hyper["alphas"])
        valid = []
        for index in range(n_valid):
            net.change_mini_batch_index(n_train + index)
            net.sbp_phase(opt.sleep, hyper["epsilon"])
            valid.append(net.measure()[2])
        line = {"seed": opt.seed, "sbp": opt.sbp, "epoch": epoch + 1, "train_error": 100 * float(np.mean(errors)), "valid_error": 100 * float(np.mean(valid)), "seconds": time.time() - start}
        emit_epoch(line, opt.json)


if __name__ == "__main__":
    main()
