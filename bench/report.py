#!/usr/bin/python3
"""Formats the results bench/run.sh collected (lines "<variant> <json>") as a
Markdown table: best-of-rounds median step time per variant, the speed-up of
cotrain over PyTorch, GFLOP/s and their share of the measured matrix-product peak,
and peak memory."""
import argparse
import json
import os


def read(path):
    """Best line per variant: lowest step time, or highest peak for the probes."""
    best = {}
    for line in open(path):
        variant, _, payload = line.partition(" ")
        j = json.loads(payload)
        if variant.startswith("peak"):
            better = variant not in best or j["peak_gflops"] > best[variant]["peak_gflops"]
        else:
            better = variant not in best or j["step_ms"] < best[variant]["step_ms"]
        if better:
            best[variant] = j
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--tasks", nargs="+", required=True)
    a = p.parse_args()
    peaks = read(os.path.join(a.dir, "peak"))
    peak = max(v["peak_gflops"] for v in peaks.values())
    print(f"matrix-product peak: {peak:.0f} GFLOP/s ("
          + ", ".join(f"{k[5:]} {v['peak_gflops']:.0f}" for k, v in sorted(peaks.items())) + f"), {a.threads} threads")
    bf16_path = os.path.join(a.dir, "peak_bf16")
    bf16_peak = read(bf16_path)["peak_dnnl_bf16"]["peak_gflops"] if os.path.exists(bf16_path) else None
    if bf16_peak:
        print(f"bfloat16 matrix-product peak (oneDNN, fp32 accumulation): {bf16_peak:.0f} GFLOP/s")
    print()
    print("| task | PyTorch ms (CPU ms) | cotrain ms (CPU ms) | speed-up | cotrain fast paths off ms (CPU ms) "
          "| cotrain bf16 ms (CPU ms, % bf16 peak) | PyTorch GFLOP/s (% peak) | cotrain GFLOP/s (% peak) "
          "| peak RSS MB PyTorch / cotrain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in a.tasks:
        r = read(os.path.join(a.dir, task))
        torch_variant = min(["torch_unset", "torch_set"], key=lambda v: r[v]["step_ms"])
        t, c, plain, bf = r[torch_variant], r["cotrain_fast"], r["cotrain_plain"], r["cotrain_bf16"]
        coretype = "unset" if torch_variant == "torch_unset" else "set"
        ms = lambda j: f"{j['step_ms']:.0f} ({j['cpu_ms']:.0f})"
        bf16_share = f", {100 * bf['gflops'] / bf16_peak:.0f}%" if bf16_peak else ""
        print(f"| {task} | {ms(t)} CORETYPE {coretype} | {ms(c)} | "
              f"{t['step_ms'] / c['step_ms']:.2f}x | {ms(plain)} | {bf['step_ms']:.0f} ({bf['cpu_ms']:.0f}{bf16_share}) | "
              f"{t['gflops']:.0f} ({100 * t['gflops'] / peak:.0f}%) | {c['gflops']:.0f} ({100 * c['gflops'] / peak:.0f}%) | "
              f"{t['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
