"""The timing loop every PyTorch twin of `cotrain bench` shares: warm-up plus timed
training steps (zero_grad, forward, backward, clip_grad_norm_ 1.0, optimizer step),
then the same one-line JSON `cotrain bench` prints. Batch making is inside the timed
step, as in the C++ benches."""
import json
import resource
import statistics
import time

import torch


def adamw_like_cotrain(model, no_decay):
    """torch.optim.AdamW with cotrain's bench settings: lr 1e-4, betas (0.9, 0.999),
    eps 1e-8, weight decay 0.01 except for the parameters no_decay(name, param) names."""
    named = list(model.named_parameters())
    return torch.optim.AdamW([{"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": 0.01},
                              {"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.999), eps=1e-8)


def time_training_steps(a, task, model, opt, forward, flops_per_step):
    """forward() makes a batch and returns (loss, {term name: loss tensor})."""
    times = []
    cpu_start = None
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu_start = usage.ru_utime + usage.ru_stime
        start = time.perf_counter()
        opt.zero_grad()
        loss, terms = forward()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ms = (usage.ru_utime + usage.ru_stime - cpu_start) * 1000.0 / a.steps
    median = statistics.median(times)
    result = {"step_ms": median, "samples_per_s": a.batch / (median / 1000.0),
              "gflops": flops_per_step / (median / 1000.0) / 1e9,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "cpu_ms": cpu_ms,
              "task": task, "steps": a.steps, "threads": torch.get_num_threads(),
              "gflop_per_step": flops_per_step / 1e9, "params": sum(p.numel() for p in model.parameters()),
              "loss": float(loss)}
    result.update({"loss_" + name: float(value) for name, value in terms.items()})
    result["all_step_ms"] = times
    print(json.dumps(result))
