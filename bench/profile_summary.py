#!/usr/bin/python3
"""Where one training step's time goes, from the trace that
`COTRAIN_BENCH_PROFILE=trace.json cotrain bench ...` writes (one step under LibTorch's
profiler, chrome://tracing format).

    bench/profile_summary.py trace.json [top N]

Prints self time per operator (its duration less the operators nested in it on the
same thread), so the column adds up to the step. Our fused ops appear as
cotrain::<op> in the forward and as "<op> backward" (their autograd node), LibTorch's
as aten::<op>; the optimizer as cotrain::adamw_step and cotrain::clip_grad_norm."""
import collections
import json
import re
import sys


def readable(name):
    m = re.match(r"torch::autograd::CppNode<.*::(\w+)Function>$", name)
    if m:  # CppNode<cotrain::nn::kernels::(anonymous namespace)::LinearGeluFunction>
        return "cotrain::" + re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(1)).lower() + " backward"
    return name


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    events = json.load(open(sys.argv[1]))
    events = events["traceEvents"] if isinstance(events, dict) else events
    top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    self_us, calls, covered = collections.Counter(), collections.Counter(), 0.0
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e["ts"], -e["dur"]))
        open_events = []  # the enclosing operators of the current one
        for e in thread_events:
            while open_events and open_events[-1]["ts"] + open_events[-1]["dur"] <= e["ts"]:
                open_events.pop()
            if open_events:
                self_us[readable(open_events[-1]["name"])] -= e["dur"]
            else:
                covered += e["dur"]
            name = readable(e["name"])
            self_us[name] += e["dur"]
            calls[name] += 1
            open_events.append(e)
    print(f"{covered / 1000:.1f} ms in profiled operators (self times below add up to it)")
    for name, us in self_us.most_common(top_n):
        print(f"{us / 1000:9.1f} ms {100 * us / covered:5.1f}% {calls[name]:6d} calls  {name}")


main()
