#!/usr/bin/python3
"""Matrix-product peak as PyTorch reaches it (torch.matmul, fp32), on the products of
the MLM step and one large square one. Prints one JSON line like `cotrain bench
--task peak`."""
import argparse
import json
import statistics
import time

import torch


def main():
    p = argparse.ArgumentParser()
    for name, default in [("hidden", 256), ("ffn", 1024), ("vocab", 30522), ("seq", 128), ("batch", 32),
                          ("threads", 0), ("steps", 10), ("warmup", 2)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--mask-prob", dest="mask_prob", type=float, default=0.15)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    n = a.batch * a.seq
    m = max(1, round(a.mask_prob * n))
    rows, best = [], 0.0
    for (mm, k, nn) in [(n, a.hidden, a.ffn), (n, a.ffn, a.hidden), (m, a.hidden, a.vocab), (2048, 2048, 2048)]:
        x, w = torch.randn(mm, k), torch.randn(nn, k)
        times = []
        for i in range(a.warmup + a.steps):
            start = time.perf_counter()
            torch.nn.functional.linear(x, w)
            if i >= a.warmup:
                times.append(time.perf_counter() - start)
        gflops = 2.0 * mm * k * nn / statistics.median(times) / 1e9
        best = max(best, gflops)
        rows.append({"m": mm, "k": k, "n": nn, "gflops": gflops})
    print(json.dumps({"task": "peak", "peak_gflops": best, "shapes": rows, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
