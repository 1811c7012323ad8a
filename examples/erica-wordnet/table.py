#!/usr/bin/env python3
"""Prints the example's results as a Markdown table: one row per (pretraining,
fraction of training documents) with dev/test F1 and Ign F1 (%), and the time of
every step. Reads OUT/times.tsv and OUT/docred-<model>-<fraction>.json."""
import json
import os
import sys

out = sys.argv[1]
times = {}
with open(os.path.join(out, "times.tsv"), encoding="utf-8") as f:
    for line in f:
        name, seconds = line.rstrip("\n").split("\t")
        times[name] = int(seconds)


def pct(x):
    return f"{100 * x:.2f}" if x is not None else "-"


print("| pretraining | train docs | dev F1 | dev Ign F1 | test F1 | test Ign F1 | threshold | fine-tune time |")
print("|---|---|---|---|---|---|---|---|")
for fraction in ("0.01", "0.1", "1"):
    for model in ("mlm", "erica"):
        path = os.path.join(out, f"docred-{model}-{fraction}.json")
        try:
            with open(path, encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError):
            print(f"| {model} | {float(fraction):.0%} | (no result) | | | | | |")
            continue
        dev, test = r.get("dev", {}), r.get("test", {})
        print(f"| {model} | {float(fraction):.0%} | {pct(dev.get('f1'))} | {pct(dev.get('ign_f1'))} | "
              f"{pct(test.get('f1'))} | {pct(test.get('ign_f1'))} | {r.get('threshold', 0):.3f} | "
              f"{times.get(f'finetune-{model}-{fraction}', '-')} s |")
print()
print("| step | seconds |")
print("|---|---|")
for name, seconds in times.items():
    if not name.startswith("finetune-"):
        print(f"| {name} | {seconds} |")
print(f"| total | {sum(times.values())} |")
