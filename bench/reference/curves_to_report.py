"""Joins a reference driver's per-epoch JSON lines (one line per seed and epoch, from --json)
into a report.json that `spikelab compare` reads, so that the released code's cost ratio is
computed by the same statistic as spikelab's own runs.

    python3 curves_to_report.py LINES.jsonl OUT_DIR --task sbp-rbm --cost-per-epoch 794000 \
        --error-key valid_error [--where sbp=1] [--description TEXT]

--error-key names the field holding the test error in % (the RBM driver's `valid_error`);
--accuracy-key instead names a test accuracy in % (the S-MLP driver's `test_accuracy`).
--where KEY=VALUE keeps the lines whose field equals VALUE (repeatable). Every seed must have
the same epochs 1..E, each once.
"""
import argparse
import json
import os
import statistics
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("lines")
    p.add_argument("out_dir")
    p.add_argument("--task", required=True, choices=["sbp-snn", "sbp-rbm", "sbp-smlp"])
    p.add_argument("--cost-per-epoch", type=float, required=True, help="C_iter of the paper's statistic, 2(mn + nk)")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--error-key")
    key.add_argument("--accuracy-key")
    p.add_argument("--where", action="append", default=[], help="KEY=VALUE")
    p.add_argument("--description", default="released reference code")
    opt = p.parse_args()

    filters = []
    for item in opt.where:
        if "=" not in item:
            sys.exit(f"--where {item}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        filters.append((k, v))

    per_seed = {}
    with open(opt.lines) as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as e:
                sys.exit(f"{opt.lines}:{number}: not JSON ({e})")
            if any(str(line.get(k)) != v for k, v in filters):
                continue
            try:
                seed, epoch = line["seed"], line["epoch"]
                error = line[opt.error_key] / 100 if opt.error_key else 1 - line[opt.accuracy_key] / 100
            except KeyError as e:
                sys.exit(f"{opt.lines}:{number}: no field {e}")
            epochs = per_seed.setdefault(seed, {})
            if epoch in epochs:
                sys.exit(f"{opt.lines}:{number}: seed {seed} epoch {epoch} appears twice")
            epochs[epoch] = error
    if not per_seed:
        sys.exit(f"{opt.lines}: no lines match")
    lengths = {len(e) for e in per_seed.values()}
    seeds = sorted(per_seed)
    if len(lengths) != 1 or any(sorted(per_seed[s]) != list(range(1, len(per_seed[s]) + 1)) for s in seeds):
        sys.exit(f"{opt.lines}: the seeds do not all have epochs 1..E: " + ", ".join(f"{s}: {sorted(per_seed[s])}" for s in seeds))
    curves = [[per_seed[s][e] for e in sorted(per_seed[s])] for s in seeds]

    # The reference's statistic: the best epoch of the seed-mean curve, ± the std over seeds there.
    mean_curve = [statistics.fmean(c[e] for c in curves) for e in range(len(curves[0]))]
    best = min(range(len(mean_curve)), key=lambda e: mean_curve[e])
    at_best = [100 * (1 - c[best]) for c in curves]
    report = {
        "task": opt.task,
        "description": opt.description,
        "seeds": seeds,
        "epochs": len(curves[0]),
        "accuracy": {"mean": statistics.fmean(at_best), "std": statistics.pstdev(at_best), "best_epoch": best + 1, "per_seed": at_best},
        "test_error_curves": curves,
        "training_cost": {"cost_per_epoch": opt.cost_per_epoch},
    }
    os.makedirs(opt.out_dir, exist_ok=True)
    with open(os.path.join(opt.out_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"{len(seeds)} seeds × {len(curves[0])} epochs: accuracy {report['accuracy']['mean']:.2f} ± {report['accuracy']['std']:.2f} % (best epoch {best + 1})")


if __name__ == "__main__":
    main()
