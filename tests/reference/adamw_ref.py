"""Reference for cotrain's AdamW, clipping and learning-rate schedule: torch.optim.AdamW
with two parameter groups (decay / no decay), torch.nn.utils.clip_grad_norm_, and a
linear warm-up + linear decay schedule as documented in src/cotrain/train/schedule.h
(warm-up counts the first update as 1/warmup, then decays linearly to 0 at the end).

Writes DIR/adamw.safetensors with the initial parameters, the gradient of every
step, and the parameters and moments after the last step.
"""
import argparse

import torch

from common import write_safetensors


def lr_at(update, total, warmup, peak):
    if update < warmup:
        return peak * (update + 1) / warmup
    return peak * max(0.0, (total - update) / max(1, total - warmup))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(3)
    shapes = {"w.weight": (5, 3), "w.bias": (5,), "norm.LayerNorm.weight": (3,)}
    params = {n: torch.randn(s, dtype=torch.float64, requires_grad=True) for n, s in shapes.items()}
    decay = [params["w.weight"]]
    no_decay = [params["w.bias"], params["norm.LayerNorm.weight"]]
    peak, wd = 1e-2, 0.1
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=peak, betas=(0.9, 0.98), eps=1e-6)
    out = {f"init.{n}": p.detach().clone().float() for n, p in params.items()}
    for step in range(args.steps):
        for n, p in params.items():
            g = torch.randn(p.shape, dtype=torch.float64) * (3.0 if step == 1 else 0.5)
            p.grad = g
            out[f"grad{step}.{n}"] = g.float()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        out[f"norm{step}"] = torch.tensor([norm.item()], dtype=torch.float32)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.warmup, peak)
        opt.step()
    for n, p in params.items():
        out[f"final.{n}"] = p.detach().float()
        out[f"final.{n}.exp_avg"] = opt.state[p]["exp_avg"].float()
        out[f"final.{n}.exp_avg_sq"] = opt.state[p]["exp_avg_sq"].float()
    write_safetensors(f"{args.out}/adamw.safetensors", out)


if __name__ == "__main__":
    main()
