#!/usr/bin/python3
"""Sums a chrome trace from COTRAIN_BENCH_PROFILE=trace.json by operator (self time
is not available in the legacy trace, so nested operators count in their parents
too: read the top-level ones, e.g. aten::linear vs its aten::addmm)."""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
events = events["traceEvents"] if isinstance(events, dict) else events
total = collections.Counter()
calls = collections.Counter()
for e in events:
    if e.get("ph") == "X":
        total[e["name"]] += e.get("dur", 0)
        calls[e["name"]] += 1
for name, us in total.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 40):
    print(f"{us / 1000:10.1f} ms {calls[name]:6d}  {name}")
