"""Runs the SBP paper's released PyTorch spiking MLP (S-MLP-SBP) on MNIST read from the IDX
files, with the settings of its train.py, so that spikelab's `sbp-smlp` can be compared with the
reference code itself. See README.md beside this file.

    python3 sbp_smlp_mnist.py REF_DIR IDX_DIR --seed 90 --epochs 100 [--bp-mark 10] [--no-sbp]
        [--energy] [--train-samples N] [--test-samples N] [--json FILE]

REF_DIR holds the reference's SNN.py and block.py (thomasaimondy/SBP); they are imported as
they are. Their `.cuda()` calls are kept; without a GPU the driver makes `.cuda()` a no-op so the
same code runs on the CPU. The training loop is train.py's MNIST branch: batch 100, T = 20,
Adam 1e-3, StepLR(50, 0.1), MSE on one-hot targets, a shuffled loader, the test accuracy after
every epoch.
"""
import argparse
import sys
import time

import torch

from reference_io import emit_epoch, read_split


def load(idx_dir, split, limit):
    images, labels, n = read_split(idx_dir, split)
    n = min(n, limit) if limit else n
    images = torch.frombuffer(bytearray(images), dtype=torch.uint8)
    labels = torch.frombuffer(bytearray(labels), dtype=torch.uint8)
    # transforms.ToTensor(): 1 × 28 × 28 floats in [0, 1]
    x = images[: n * 784].reshape(n, 1, 28, 28).float() / 255.0
    return torch.utils.data.TensorDataset(x, labels[:n].long())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ref_dir")
    p.add_argument("idx_dir")
    p.add_argument("--seed", type=int, default=3154)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--bp-mark", type=int, default=None)
    p.add_argument("--no-sbp", action="store_true")
    p.add_argument("--energy", action="store_true")
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--train-samples", type=int, default=0)
    p.add_argument("--test-samples", type=int, default=0)
    p.add_argument("--json", default=None, help="append one JSON line per epoch to this file")
    opt = p.parse_args()

    if torch.cuda.is_available():
        device = "cuda"
    else:
        device = "cpu"
        torch.Tensor.cuda = lambda self, *a, **k: self
        torch.nn.Module.cuda = lambda self, *a, **k: self
    sys.path.insert(0, opt.ref_dir)
    from SNN import SNN  # the reference's model, hooks and all

    torch.manual_seed(opt.seed)
    if device == "cuda":
        torch.cuda.manual_seed_all(opt.seed)
    torch.backends.cudnn.deterministic = True

    hyperparams = [100, 784, 10, 1e-3, 20, "MNIST"]
    train_set = load(opt.idx_dir, "train", opt.train_samples)
    test_set = load(opt.idx_dir, "t10k", opt.test_samples)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=hyperparams[0], shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=hyperparams[0], shuffle=False)

    model = SNN(hyperparams, 500, 3, not opt.no_sbp, opt.bp_mark)
    model.cuda()
    loss_function = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=hyperparams[3])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.1)

    for epoch in range(opt.epochs):
        start = time.time()
        model.train()
        for images, labels in train_loader:
            if images.size(0) != hyperparams[0]:
                continue
            optimizer.zero_grad()
            images = images.cuda()
            one_hot = torch.zeros(hyperparams[0], hyperparams[2]).scatter(1, labels.unsqueeze(1), 1).cuda()
            outputs, e_loss = model(images, one_hot)
            loss = loss_function(outputs, one_hot)
            if opt.energy:
                loss = loss + e_loss * opt.alpha
            loss.backward(retain_graph=True)
            optimizer.step()
        scheduler.step()
        model.eval()
        correct = total = 0
        for images, labels in test_loader:
            if images.size(0) != hyperparams[0]:
                continue
            outputs, _ = model(images.cuda())
            correct += int((outputs.max(1)[1] == labels.cuda()).sum())
            total += labels.size(0)
        acc = 100.0 * correct / total
        line = {"seed": opt.seed, "epoch": epoch + 1, "test_accuracy": acc, "seconds": round(time.time() - start, 2)}
        emit_epoch(line, opt.json)


if __name__ == "__main__":
    main()
