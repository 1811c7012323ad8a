"""Helpers shared by the reference twins.

Debian ships no Python safetensors package, so the format (formats.md) is written and
read here by hand with struct + json: an 8-byte little-endian header length, a JSON
header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
"""
import json
import struct

import numpy as np
import torch

# torch dtype -> (safetensors dtype, numpy little-endian dtype or None for bf16)
_DTYPES = {
    torch.float64: ("F64", "<f8"),
    torch.float32: ("F32", "<f4"),
    torch.float16: ("F16", "<f2"),
    torch.bfloat16: ("BF16", None),
    torch.int64: ("I64", "<i8"),
    torch.int32: ("I32", "<i4"),
    torch.int16: ("I16", "<i2"),
    torch.int8: ("I8", "i1"),
    torch.uint8: ("U8", "u1"),
    torch.bool: ("BOOL", "u1"),
}
_BY_NAME = {st: (dt, np_dt) for dt, (st, np_dt) in _DTYPES.items()}


def _to_bytes(tensor):
    t = tensor.detach().cpu().contiguous()
    st, np_dt = _DTYPES[t.dtype]
    if t.dtype == torch.bfloat16:
        return st, t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.bool:
        return st, t.numpy().astype("u1").tobytes()
    return st, t.numpy().astype(np_dt).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (any dtype in _DTYPES) to `path`, names sorted."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        st, data = _to_bytes(tensors[name])
        header[name] = {"dtype": st, "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data buffer starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Reads a file written by write_safetensors (or anyone) into {name: tensor}."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    buffer = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, np_dt = _BY_NAME[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = buffer[begin:end]
        if dt == torch.bfloat16:
            t = torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype=np_dt).copy())
            if dt == torch.bool:
                t = t.to(torch.bool)
        out[name] = t.reshape(info["shape"])
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def generator(seed):
    """A private, seeded generator: the global torch RNG is never touched."""
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def normal(shape, std, g, mean=0.0):
    """float32 N(mean, std) drawn from `g` (float32 so that what the twin computes
    with, once widened to float64, is exactly what the file holds)."""
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * std + mean).to(torch.float32)


def randint(low, high, shape, g):
    return torch.randint(low, high, tuple(shape), generator=g, dtype=torch.int64)
