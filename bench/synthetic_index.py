#!/usr/bin/python3
"""Writes a synthetic index folder (the layout of src/cotrain/serve/embedding_index.h)
for measuring approximate search at sizes no real collection here has:

  /usr/bin/python3 bench/synthetic_index.py OUT --rows 100000 --queries 1000 --dim 128 [--clusters 1000]

"images": ROWS unit vectors; "texts": QUERIES unit vectors drawn from the same
distribution, which `cotrain index --out OUT --approximate ...` then uses as the
recall queries for the images. The vectors are a mixture: a centre per cluster
(uniform on the sphere), each vector its centre plus Gaussian noise of the same
expected norm (`--spread 1`), re-normalised -- structure like trained embeddings
have, without being easy (--clusters 0: uniform on the sphere, the hardest case).
Needs python3-torch (Debian) only; the index names no model (it is never served).
"""
import argparse
import json
import os
import struct

import torch


def unit(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def draw(n, centres, spread, gen):
    dim = centres.shape[1]
    which = torch.randint(0, centres.shape[0], (n,), generator=gen)
    noise = torch.randn(n, dim, generator=gen) / dim ** 0.5 * spread
    return unit(centres[which] + noise)


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "cotrain-index"}}, 0, []
    for name, t in tensors.items():
        data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--spread", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    gen = torch.Generator().manual_seed(a.seed)
    if a.clusters > 0:
        centres = unit(torch.randn(a.clusters, a.dim, generator=gen))
        images = torch.cat([draw(min(100000, a.rows - i), centres, a.spread, gen) for i in range(0, a.rows, 100000)])
        texts = draw(a.queries, centres, a.spread, gen)
    else:
        images = unit(torch.randn(a.rows, a.dim, generator=gen))
        texts = unit(torch.randn(a.queries, a.dim, generator=gen))
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "embeddings.safetensors"), {"images": images, "texts": texts})
    ids = {"images": [{"id": f"v{i}", "thumbnail": None, "source": "synthetic"} for i in range(a.rows)],
           "texts": [{"id": f"q{i}", "text": f"query {i}"} for i in range(a.queries)]}
    with open(os.path.join(a.out, "ids.json"), "w") as f:
        json.dump(ids, f)
    meta = {"format": "cotrain-index", "version": 1, "dim": a.dim, "images": a.rows, "texts": a.queries,
            "synthetic": {"clusters": a.clusters, "spread": a.spread, "seed": a.seed}}
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"{a.out}: {a.rows} vectors, {a.queries} queries, width {a.dim}, {a.clusters} clusters")


if __name__ == "__main__":
    main()
