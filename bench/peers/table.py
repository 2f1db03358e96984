#!/usr/bin/env python3
"""Median samples/s and peak RSS per (config, library) from JSON lines; ratios to spikelab."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault(r["name"], {}).setdefault(r["library"], []).append(r)
print(f"{'config':<12}{'library':<14}{'samples/s (median)':>20}{'min':>9}{'max':>9}{'peak RSS MiB':>14}{'spikelab is':>13}")
for name, libs in by.items():
    base = statistics.median(r["samples_per_second"] for r in libs["spikelab"]) if "spikelab" in libs else None
    for lib, runs in libs.items():
        rates = [r["samples_per_second"] for r in runs]
        m = statistics.median(rates)
        rss = max(r["peak_rss_bytes"] for r in runs) / 2**20
        ratio = f"{base / m:.2f}x" if base else "-"
        print(f"{name:<12}{lib:<14}{m:>20.1f}{min(rates):>9.1f}{max(rates):>9.1f}{rss:>14.1f}{ratio:>13}")
